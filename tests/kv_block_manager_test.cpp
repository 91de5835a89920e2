// The paged KV cache's block accounting: allocation, release, prefix publishing and lookup, and
// least-recently-used eviction of cached prefixes.
#include "engine/kv_block_manager.h"

#include <gtest/gtest.h>

#include <numeric>
#include <set>

namespace anychip::engine {
namespace {

std::vector<int32_t> iota_tokens(int n, int first = 100) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  std::iota(t.begin(), t.end(), first);
  return t;
}

TEST(KvBlockManager, AllocatesEveryBlockOnceThenRefuses) {
  KvBlockManager m(5, 4);
  std::set<int32_t> seen;
  for (int i = 0; i < 5; ++i) {
    const auto b = m.allocate();
    ASSERT_TRUE(b);
    EXPECT_TRUE(seen.insert(*b).second);
  }
  EXPECT_FALSE(m.allocate());
  EXPECT_EQ(m.used_blocks(), 5);
  const std::vector<int32_t> all(seen.begin(), seen.end());
  m.release(all);
  EXPECT_EQ(m.used_blocks(), 0);
  EXPECT_EQ(m.available_blocks(), 5);
  EXPECT_EQ(m.cached_blocks(), 0);
}

TEST(KvBlockManager, PublishedPrefixIsFoundAndShared) {
  KvBlockManager m(8, 4);
  const auto tokens = iota_tokens(10);  // two full blocks and a partial one
  const int32_t b0 = *m.allocate(), b1 = *m.allocate();
  uint64_t h = KvBlockManager::kRootHash;
  h = m.publish(b0, h, std::span(tokens).subspan(0, 4));
  h = m.publish(b1, h, std::span(tokens).subspan(4, 4));

  const auto hit = m.acquire_prefix(tokens, 10);
  EXPECT_EQ(hit.blocks, (std::vector<int32_t>{b0, b1}));
  EXPECT_EQ(hit.hash, h);
  // The limit counts tokens: only whole blocks within it are taken.
  const auto partial = m.acquire_prefix(tokens, 7);
  EXPECT_EQ(partial.blocks, (std::vector<int32_t>{b0}));

  // A different second block matches only the first.
  auto other = tokens;
  other[5] = 7;
  const auto diverged = m.acquire_prefix(other, 10);
  EXPECT_EQ(diverged.blocks, (std::vector<int32_t>{b0}));

  // Same block contents at a different place in the sequence must not match (hashes chain).
  const auto shifted = m.acquire_prefix(std::span(tokens).subspan(4), 6);
  EXPECT_TRUE(shifted.blocks.empty());

  m.release(hit.blocks);
  m.release(partial.blocks);
  m.release(diverged.blocks);
  EXPECT_EQ(m.used_blocks(), 2);  // the original owners still hold them
  m.release(std::vector<int32_t>{b0, b1});
  EXPECT_EQ(m.used_blocks(), 0);
  EXPECT_EQ(m.cached_blocks(), 2);
  // Still reusable after every owner let go.
  EXPECT_EQ(m.acquire_prefix(tokens, 10).blocks.size(), 2u);
}

TEST(KvBlockManager, EvictsCachedBlocksOnlyWhenNothingElseIsFree) {
  KvBlockManager m(3, 2);
  const auto a = iota_tokens(2, 1), b = iota_tokens(2, 50);
  const int32_t ba = *m.allocate(), bb = *m.allocate();
  m.publish(ba, KvBlockManager::kRootHash, a);
  m.publish(bb, KvBlockManager::kRootHash, b);
  m.release(std::vector<int32_t>{ba});
  m.release(std::vector<int32_t>{bb});
  EXPECT_EQ(m.cached_blocks(), 2);

  const int32_t fresh = *m.allocate();  // the never-used block goes first
  EXPECT_NE(fresh, ba);
  EXPECT_NE(fresh, bb);
  EXPECT_EQ(m.cached_blocks(), 2);
  const int32_t evicted = *m.allocate();  // then the least recently released prefix
  EXPECT_EQ(evicted, ba);
  EXPECT_TRUE(m.acquire_prefix(a, 2).blocks.empty());
  const auto still = m.acquire_prefix(b, 2);
  EXPECT_EQ(still.blocks, (std::vector<int32_t>{bb}));
  EXPECT_FALSE(m.allocate());  // bb is referenced again, nothing left
}

TEST(KvBlockManager, DuplicatePublishKeepsTheFirstCopy) {
  KvBlockManager m(4, 2);
  const auto t = iota_tokens(2);
  const int32_t x = *m.allocate(), y = *m.allocate();
  const uint64_t hx = m.publish(x, KvBlockManager::kRootHash, t);
  const uint64_t hy = m.publish(y, KvBlockManager::kRootHash, t);
  EXPECT_EQ(hx, hy);
  m.release(std::vector<int32_t>{x, y});
  EXPECT_EQ(m.cached_blocks(), 1);  // y went back to the plain free list
  EXPECT_EQ(m.acquire_prefix(t, 2).blocks, (std::vector<int32_t>{x}));
}

}  // namespace
}  // namespace anychip::engine
