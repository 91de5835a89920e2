#pragma once
// Which worker last served a prompt prefix: that worker likely still holds its KV blocks in its
// prefix cache. Bounded (oldest entries forgotten first) so a stream of unique prompts cannot
// grow the router's memory.
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace anychip::router {

class PrefixAffinity {
 public:
  explicit PrefixAffinity(size_t capacity = 65536) : capacity_(capacity) {}
  std::optional<std::string> lookup(uint64_t key) const;
  void record(uint64_t key, const std::string& worker);

 private:
  size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, std::string> map_;
  std::deque<uint64_t> order_;  // insertion order of the keys in map_
};

}  // namespace anychip::router
