#pragma once
// Which workers likely hold a prompt's prefix in their prefix cache, and how much of it: for each
// prefix key (RequestInfo::prefix_keys, one per 256-character block) the workers that served a
// prompt starting that way, most recent first. Bounded (the oldest keys are forgotten first, and a
// key keeps its kMaxHolders latest workers) so a stream of unique prompts cannot grow the
// router's memory. A guess: a worker may have evicted what it held.
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace anychip::router {

class PrefixAffinity {
 public:
  static constexpr size_t kMaxHolders = 8;

  explicit PrefixAffinity(size_t capacity = 65536) : capacity_(capacity) {}
  // Worker -> the number of leading blocks of this prompt it has served.
  std::map<std::string, int> cached_blocks(const std::vector<uint64_t>& keys) const;
  void record(const std::vector<uint64_t>& keys, const std::string& worker);

 private:
  size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, std::vector<std::string>> holders_;
  std::deque<uint64_t> order_;  // insertion order of the keys in holders_
};

}  // namespace anychip::router
