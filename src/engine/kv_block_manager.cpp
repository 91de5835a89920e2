#include "engine/kv_block_manager.h"

#include <algorithm>
#include <cassert>

namespace anychip::engine {

KvBlockManager::KvBlockManager(int64_t n_blocks, int block_size) : block_size_(block_size), blocks_(static_cast<size_t>(n_blocks)) {
  assert(n_blocks > 0 && block_size > 0);
  free_.reserve(blocks_.size());
  // Hand out low block ids first (reversed stack), which keeps a lightly loaded pool compact.
  for (int64_t i = n_blocks - 1; i >= 0; --i) free_.push_back(static_cast<int32_t>(i));
}

uint64_t KvBlockManager::chain_hash(uint64_t parent, std::span<const int32_t> tokens) {
  // FNV-1a style mixing with a final avalanche; collisions are caught by comparing tokens.
  uint64_t h = parent ^ 0xcbf29ce484222325ull;
  for (int32_t t : tokens) {
    h ^= static_cast<uint32_t>(t);
    h *= 0x100000001b3ull;
    h ^= h >> 29;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

KvBlockManager::Prefix KvBlockManager::acquire_prefix(std::span<const int32_t> tokens, int64_t max_tokens) {
  Prefix taken;
  uint64_t& parent = taken.hash;
  const int64_t limit = std::min<int64_t>(max_tokens, static_cast<int64_t>(tokens.size()));
  for (int64_t begin = 0; begin + block_size_ <= limit; begin += block_size_) {
    const auto chunk = tokens.subspan(static_cast<size_t>(begin), static_cast<size_t>(block_size_));
    const uint64_t h = chain_hash(parent, chunk);
    const auto it = by_hash_.find(h);
    if (it == by_hash_.end()) break;
    Block& b = blocks_[static_cast<size_t>(it->second)];
    if (b.parent_hash != parent || !std::equal(chunk.begin(), chunk.end(), b.tokens.begin(), b.tokens.end())) break;
    if (b.refs++ == 0) evictable_.erase(b.lru);
    taken.blocks.push_back(it->second);
    parent = h;
  }
  return taken;
}

std::optional<int32_t> KvBlockManager::allocate() {
  int32_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else if (!evictable_.empty()) {
    id = evictable_.front();
    evictable_.pop_front();
    unpublish(id);
  } else {
    return std::nullopt;
  }
  Block& b = blocks_[static_cast<size_t>(id)];
  assert(b.refs == 0 && !b.published);
  b.refs = 1;
  return id;
}

void KvBlockManager::release(std::span<const int32_t> ids) {
  for (int32_t id : ids) {
    Block& b = blocks_[static_cast<size_t>(id)];
    assert(b.refs > 0);
    if (--b.refs > 0) continue;
    if (b.published) {
      b.lru = evictable_.insert(evictable_.end(), id);
    } else {
      free_.push_back(id);
    }
  }
}

uint64_t KvBlockManager::publish(int32_t id, uint64_t parent_hash, std::span<const int32_t> block_tokens) {
  assert(static_cast<int>(block_tokens.size()) == block_size_);
  const uint64_t h = chain_hash(parent_hash, block_tokens);
  Block& b = blocks_[static_cast<size_t>(id)];
  if (b.published) return b.hash;  // taken from the cache: already known under this hash
  // Two sequences may compute the same prefix at once; the first one published stays the
  // cached copy and the other block is simply freed later.
  if (by_hash_.emplace(h, id).second) {
    b.published = true;
    b.hash = h;
    b.parent_hash = parent_hash;
    b.tokens.assign(block_tokens.begin(), block_tokens.end());
  }
  return h;
}

void KvBlockManager::unpublish(int32_t id) {
  Block& b = blocks_[static_cast<size_t>(id)];
  by_hash_.erase(b.hash);
  b.published = false;
  b.tokens.clear();
}

}  // namespace anychip::engine
