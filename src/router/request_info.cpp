#include "router/request_info.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace anychip::router {
namespace {

using json = nlohmann::json;

// FNV-1a, read off at every block boundary: one pass over the prompt gives every prefix's hash.
// Stable across processes and runs (std::hash need not be), cheap, good enough to key a bounded
// table.
std::vector<uint64_t> prefix_hashes(const std::string& s) {
  std::vector<uint64_t> keys;
  uint64_t h = 1469598103934665603ull;
  const size_t end = std::min(s.size() / kPrefixBlockChars, kMaxPrefixBlocks) * kPrefixBlockChars;
  for (size_t i = 0; i < end; ++i) {
    h ^= static_cast<unsigned char>(s[i]);
    h *= 1099511628211ull;
    if ((i + 1) % kPrefixBlockChars == 0) keys.push_back(h);
  }
  return keys;
}

// The prompt as one text: a chat's roles and string contents (or text parts) in order.
std::string prompt_text(const json& j, bool chat) {
  std::string text;
  if (!chat) {
    if (j.contains("prompt") && j["prompt"].is_string()) text = j["prompt"].get<std::string>();
    return text;
  }
  if (!j.contains("messages") || !j["messages"].is_array()) return text;
  for (const json& m : j["messages"]) {
    if (!m.is_object()) continue;
    if (m.contains("role") && m["role"].is_string()) text += m["role"].get<std::string>() + "\n";
    if (!m.contains("content")) continue;
    const json& c = m["content"];
    if (c.is_string()) {
      text += c.get<std::string>();
    } else if (c.is_array()) {
      for (const json& part : c) {
        if (part.is_object() && part.contains("text") && part["text"].is_string()) text += part["text"].get<std::string>();
      }
    }
    text += "\n";
  }
  return text;
}

}  // namespace

RequestInfo inspect_request(const std::string& body, bool chat) {
  RequestInfo info;
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return info;
  info.parsed = true;
  if (j.contains("stream") && j["stream"].is_boolean()) info.stream = j["stream"].get<bool>();
  if (j.contains("model") && j["model"].is_string()) info.model = j["model"].get<std::string>();
  for (const char* key : {"max_completion_tokens", "max_tokens"}) {
    if (j.contains(key) && j[key].is_number_integer()) {
      const int64_t v = j[key].get<int64_t>();
      if (v > 0) info.max_tokens = static_cast<int>(std::min<int64_t>(v, 1 << 24));
    }
  }
  const std::string text = prompt_text(j, chat);
  info.prompt_chars = static_cast<int>(std::min<size_t>(text.size(), 1u << 30));
  info.prefix_keys = prefix_hashes(text);
  return info;
}

}  // namespace anychip::router
