// RopeAngleCache: each request's tables equal ref::rope_angles per row, whether computed or
// reused, and a change of any position or parameter gives fresh tables, never the last ones.
#include <gtest/gtest.h>

#include <vector>

#include "backend/cpu/reference_ops.h"
#include "backend/cpu/rope_angle_cache.h"

namespace anychip::cpu {
namespace {

void expect_reference_tables(RopeAngleCache& cache, const std::vector<int32_t>& positions, const backend::RopeParams& p,
                             const char* what) {
  const float* got = cache.tables(positions, p);
  std::vector<float> want(static_cast<size_t>(p.head_dim));
  for (size_t t = 0; t < positions.size(); ++t) {
    ref::rope_angles(positions[t], p, want.data(), want.data() + p.head_dim / 2);
    for (int i = 0; i < p.head_dim; ++i) ASSERT_EQ(got[t * p.head_dim + i], want[i]) << what << " row " << t << " entry " << i;
  }
}

TEST(RopeAngleCache, TablesFollowEveryChangeOfPositionsAndParameters) {
  RopeAngleCache cache;
  backend::RopeParams p;
  p.head_dim = 64;
  p.theta = 500000.0f;
  std::vector<float> factors(64, 2.0f), other_factors(64, 4.0f);  // enough for head_dim 128
  expect_reference_tables(cache, {0, 5, 9}, p, "first");
  expect_reference_tables(cache, {0, 5, 9}, p, "repeated");
  expect_reference_tables(cache, {0, 5, 10}, p, "one position moved");
  expect_reference_tables(cache, {0, 5}, p, "fewer rows");
  expect_reference_tables(cache, {7}, p, "decode row");
  p.theta = 10000.0f;
  expect_reference_tables(cache, {7}, p, "theta");
  p.freq_scale = 0.25f;
  expect_reference_tables(cache, {7}, p, "freq_scale");
  p.freq_factors = factors.data();
  expect_reference_tables(cache, {7}, p, "freq_factors");
  p.freq_factors = other_factors.data();
  expect_reference_tables(cache, {7}, p, "other freq_factors");
  p.head_dim = 128;
  expect_reference_tables(cache, {7}, p, "head_dim");
}

}  // namespace
}  // namespace anychip::cpu
