#pragma once
// Owns the blocks of the paged KV cache: which are free, which sequences hold them, and which hold
// a reusable prefix. A full block whose keys/values are computed is published under a hash of its
// tokens chained with the hash of everything before it, so a later request with the same prefix
// (a shared system prompt) takes the block instead of recomputing it. Free blocks that still hold
// a published prefix are evicted least-recently-used first, only when no never-used block is left.
#include <cstdint>
#include <list>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

namespace anychip::engine {

class KvBlockManager {
 public:
  static constexpr uint64_t kRootHash = 0x9e3779b97f4a7c15ull;

  KvBlockManager(int64_t n_blocks, int block_size);

  int block_size() const { return block_size_; }
  int64_t total_blocks() const { return static_cast<int64_t>(blocks_.size()); }
  // Blocks allocate() can still hand out (never-used plus evictable cached ones).
  int64_t available_blocks() const { return static_cast<int64_t>(free_.size() + evictable_.size()); }
  int64_t used_blocks() const { return total_blocks() - available_blocks(); }
  int64_t cached_blocks() const { return static_cast<int64_t>(evictable_.size()); }

  struct Prefix {
    std::vector<int32_t> blocks;
    uint64_t hash = kRootHash;  // chained hash after the last block, for publishing the next
  };
  // Takes a reference on each published block that continues the prefix of `tokens`, up to
  // max_tokens tokens, and returns them in order.
  Prefix acquire_prefix(std::span<const int32_t> tokens, int64_t max_tokens);
  // A block for new keys/values, or nullopt when every block is in use.
  std::optional<int32_t> allocate();
  // Drops one reference on each block.
  void release(std::span<const int32_t> blocks);
  // Publishes `block`, which holds the keys/values of `block_tokens` (block_size of them) after a
  // prefix hashing to parent_hash. Returns the chained hash for the next block.
  uint64_t publish(int32_t block, uint64_t parent_hash, std::span<const int32_t> block_tokens);

 private:
  struct Block {
    int refs = 0;
    bool published = false;
    uint64_t hash = 0;
    uint64_t parent_hash = 0;
    std::vector<int32_t> tokens;  // kept to rule out hash collisions
    std::list<int32_t>::iterator lru;
  };
  static uint64_t chain_hash(uint64_t parent, std::span<const int32_t> tokens);
  void unpublish(int32_t id);

  int block_size_;
  std::vector<Block> blocks_;
  std::vector<int32_t> free_;          // never used, or used and not published
  std::list<int32_t> evictable_;       // unreferenced published blocks, oldest release first
  std::unordered_map<uint64_t, int32_t> by_hash_;
};

}  // namespace anychip::engine
