#include "router/token_count.h"

#include <nlohmann/json.hpp>

namespace anychip::router {
namespace {

using json = nlohmann::json;

std::optional<uint64_t> usage_of(const json& j) {
  if (!j.contains("usage") || !j["usage"].is_object()) return std::nullopt;
  const json& u = j["usage"];
  if (!u.contains("completion_tokens") || !u["completion_tokens"].is_number_unsigned()) return std::nullopt;
  return u["completion_tokens"].get<uint64_t>();
}

bool non_empty_string(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() && !j[key].get_ref<const std::string&>().empty();
}

// A chat chunk's delta.content or a completion chunk's text.
bool has_content(const json& j) {
  if (!j.contains("choices") || !j["choices"].is_array()) return false;
  for (const json& c : j["choices"]) {
    if (!c.is_object()) continue;
    if (non_empty_string(c, "text")) return true;
    if (c.contains("delta") && c["delta"].is_object() && non_empty_string(c["delta"], "content")) return true;
  }
  return false;
}

}  // namespace

void StreamTokenCounter::data(std::string_view text) {
  const json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return;  // [DONE], or not JSON
  if (const auto u = usage_of(j)) usage_ = *u;
  if (has_content(j)) ++content_chunks_;
}

void StreamTokenCounter::feed(std::string_view events) {
  size_t pos = 0;
  while (pos < events.size()) {
    size_t nl = events.find('\n', pos);
    if (nl == std::string_view::npos) nl = events.size();
    std::string_view line = events.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.substr(0, 5) == "data:") {
      line.remove_prefix(5);
      if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
      data(line);
    }
    pos = nl + 1;
  }
}

uint64_t completion_tokens_in(const std::string& body) {
  const json j = json::parse(body, nullptr, false);
  return j.is_object() ? usage_of(j).value_or(0) : 0;
}

}  // namespace anychip::router
