#pragma once
// What the router reads from a completion request body before forwarding it untouched: whether
// it streams, which model it names, a prompt-size estimate and a key for its prefix.
#include <cstdint>
#include <optional>
#include <string>

namespace anychip::router {

struct RequestInfo {
  bool parsed = false;  // false: not a JSON object; forwarded as is, the worker answers the error
  bool stream = false;
  std::optional<std::string> model;
  int prompt_chars = 0;
  int max_tokens = 256;
  // Hash of the first kPrefixChars characters of the prompt (chat: the messages' roles and
  // contents in order); 0 when the prompt is shorter than that or absent.
  uint64_t prefix_key = 0;
};

inline constexpr size_t kPrefixChars = 256;

RequestInfo inspect_request(const std::string& body, bool chat);

}  // namespace anychip::router
