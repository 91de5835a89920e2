#pragma once
// What the router reads from a completion request body before forwarding it untouched: whether
// it streams, which model it names, a prompt-size estimate and keys for its prefixes.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace anychip::router {

struct RequestInfo {
  bool parsed = false;  // false: not a JSON object; forwarded as is, the worker answers the error
  bool stream = false;
  std::optional<std::string> model;
  int prompt_chars = 0;
  int max_tokens = 256;
  // prefix_keys[i]: a hash of the prompt's first (i + 1) * kPrefixBlockChars characters (chat:
  // the messages' roles and contents in order), for every whole block up to kMaxPrefixBlocks.
  // Two prompts sharing a key share that prefix: a worker that served one likely holds it in its
  // prefix cache. Empty for a prompt shorter than one block.
  std::vector<uint64_t> prefix_keys;
};

inline constexpr size_t kPrefixBlockChars = 256;
inline constexpr size_t kMaxPrefixBlocks = 256;  // prefixes beyond 64 KiB count as 64 KiB

RequestInfo inspect_request(const std::string& body, bool chat);

}  // namespace anychip::router
