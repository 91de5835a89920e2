// The CUDA row-wise and element-wise kernels against the CPU reference ops (the checks of
// support/op_checks.h: rms_norm with f16/bf16 weights, rope with head sizes 64 and 128, swiglu,
// add, add_bias, store_rows bit for bit), plus CUDA's own: rows outside the cache refused, fresh
// buffers zeroed, a model larger than free memory refused.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/cuda_fixture.h"

namespace anychip::testing::cudatest {
namespace {

class CudaOps : public CudaTest {};

TEST_F(CudaOps, RmsNormRowsGroupsAndInPlace) {
  check_rms_norm(640, {640, 64, 32}, {GgmlType::F32, GgmlType::F16, GgmlType::BF16});
}

TEST_F(CudaOps, RopeNormalAndNeoxWithFreqFactors) { check_rope({64, 128}); }

TEST_F(CudaOps, SwigluAddAndBias) { check_swiglu_add_and_bias(); }

TEST_F(CudaOps, ArgmaxRowsFindsTheFirstMaximum) { check_argmax_rows(); }

TEST_F(CudaOps, RopeAndStoreMatchesItsSteps) { check_rope_and_store(true); }

TEST_F(CudaOps, StoreRowsRoundsToHalfExactly) {
  const auto [src, cache] = check_store_rows();
  const std::vector<int32_t> outside = {0, 8, 1};  // the cache has 8 rows
  EXPECT_THROW(dev->store_rows(src, outside, cache), Error);
}

TEST_F(CudaOps, NewBuffersReadAsZerosAndWritesRoundTrip) {
  auto buffer = dev->alloc(1000);
  std::vector<uint8_t> got(1000, 0xAB);
  buffer->read(0, got.data(), got.size());
  for (uint8_t b : got) ASSERT_EQ(b, 0);
  const std::vector<uint8_t> pattern = {1, 2, 3, 4, 5};
  buffer->write(997 - 5, pattern.data(), pattern.size());
  buffer->read(992, got.data(), 5);
  EXPECT_EQ(std::vector<uint8_t>(got.begin(), got.begin() + 5), pattern);
  EXPECT_THROW(buffer->read(998, got.data(), 5), Error);
}

TEST_F(CudaOps, ModelLargerThanFreeMemoryIsRefusedWithBothSizes) {
  const uint64_t too_big = dev->info().memory_bytes * 2;
  try {
    // Refused before a byte of the (nonexistent) data is read.
    dev->import_host(reinterpret_cast<const void*>(16), static_cast<size_t>(too_big));
    FAIL() << "import_host accepted " << too_big << " bytes";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(std::to_string((too_big + (1u << 20) - 1) >> 20) + " MiB"), std::string::npos) << message;
    EXPECT_NE(message.find("free"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace anychip::testing::cudatest
