#include "loadgen/prompt.h"

#include <array>
#include <random>
#include <string_view>

namespace anychip::loadgen {
namespace {

constexpr std::array<std::string_view, 64> kWords = {
    "the",   "time",  "people", "way",   "water", "day",   "part",  "sound", "work",  "place", "year",  "back",
    "thing", "name",  "line",   "man",   "world", "house", "point", "hand",  "light", "story", "night", "paper",
    "group", "music", "state",  "book",  "river", "city",  "tree",  "road",  "school", "game", "table", "color",
    "field", "door",  "market", "word",  "song",  "sea",   "town",  "stone", "board", "mind",  "plan",  "head",
    "fire",  "wind",  "rain",   "land",  "air",   "open",  "green", "small", "large", "old",   "new",   "long",
    "high",  "cold",  "warm",   "fast"};

}  // namespace

std::string synthetic_prompt(int words, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, kWords.size() - 1);
  std::string out;
  out.reserve(static_cast<size_t>(words) * 6);
  for (int i = 0; i < words; ++i) {
    if (i > 0) out.push_back(' ');
    out.append(kWords[pick(rng)]);
  }
  return out;
}

}  // namespace anychip::loadgen
