// NextReadPredictor: it predicts the dispatch that followed last time, and finds where each
// thread's share of a multi-matrix dispatch starts.
#include <gtest/gtest.h>

#include <vector>

#include "backend/cpu/next_read_predictor.h"

namespace anychip::cpu {
namespace {

using Read = NextReadPredictor::Read;

Read read_of(const uint8_t* base, int64_t rows) {
  Read r;
  r.add(base, 100, rows);
  return r;
}

TEST(NextReadPredictor, PredictsWhatFollowedLastTime) {
  std::vector<uint8_t> a(1), b(1), c(1);
  NextReadPredictor p;
  // First token: nothing known yet.
  EXPECT_FALSE(p.advance(read_of(a.data(), 32)));
  EXPECT_FALSE(p.advance(read_of(b.data(), 32)));
  EXPECT_FALSE(p.advance(read_of(c.data(), 32)));
  // Second token: each read predicts the one after it, the last one the first.
  auto next = p.advance(read_of(a.data(), 32));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->base[0], b.data());
  next = p.advance(read_of(b.data(), 32));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->base[0], c.data());
  next = p.advance(read_of(c.data(), 32));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->base[0], a.data());
  // A changed order is learned: after a, c now.
  p.advance(read_of(a.data(), 32));
  p.advance(read_of(c.data(), 32));
  next = p.advance(read_of(a.data(), 32));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->base[0], c.data());
}

TEST(NextReadPredictor, ChunksNumberedAcrossMatrices) {
  std::vector<uint8_t> q(1), k(1);
  Read r;
  r.add(q.data(), 64, 40);  // 3 chunks of 16 rows (the last partial)
  r.add(k.data(), 32, 16);  // 1 chunk
  EXPECT_EQ(r.chunks(), 4);
  EXPECT_EQ(r.chunk_address(0), q.data());
  EXPECT_EQ(r.chunk_address(2), q.data() + 2 * 16 * 64);
  EXPECT_EQ(r.chunk_address(3), k.data());
  EXPECT_EQ(r.chunk_address(4), nullptr);
  // Two threads: the second starts at chunk 2.
  std::vector<uint8_t> rows(4096 * 4);
  Read big;
  big.add(rows.data(), 64, 256);
  NextReadPredictor::prefetch_share(big, 1, 2, 8192);  // a hint only: must stay inside the read
  EXPECT_EQ(big.chunk_address(big.chunks() * 1 / 2), rows.data() + 128 * 64);
}

}  // namespace
}  // namespace anychip::cpu
