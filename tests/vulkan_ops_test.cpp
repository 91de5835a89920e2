// The Vulkan row-wise and element-wise shaders against the CPU reference ops (the checks of
// support/op_checks.h: rms_norm with f16 weights, rope, swiglu, add, add_bias, store_rows bit for
// bit), in every feature mode; plus the ANYCHIP_VULKAN_DISABLE switch really selecting the
// fallback shaders, and the memory bandwidth probe giving a real rate.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "support/vulkan_fixture.h"

namespace anychip::testing {
namespace {

class VulkanOps : public VulkanTest {};

#ifdef ANYCHIP_HAVE_VULKAN
TEST_P(VulkanOps, DisableSwitchSelectsTheFallbackShaders) {
  const std::string mode = GetParam();
  const std::string used = vulkan::features_in_use(*dev);
  std::printf("[ features ] mode '%s': shaders use %s\n", mode.c_str(), used.c_str());
  if (mode == "all") {
    EXPECT_EQ(used, "none");
  } else if (mode == "subgroup") {
    EXPECT_EQ(used.find("subgroup"), std::string::npos);
  } else if (mode == "int8storage") {
    EXPECT_EQ(used.find("int8storage"), std::string::npos);
  }
}
#endif

TEST_P(VulkanOps, RmsNormRowsGroupsAndInPlace) {
  check_rms_norm(96, {96, 32}, {GgmlType::F32, GgmlType::F16});
}

// Rows of 1024 and more take the 256-invocation workgroup; 2048 is Llama-3.2-1B's hidden size,
// 1100 leaves a tail after the four-at-a-time loop.
TEST_P(VulkanOps, RmsNormWideRows) {
  check_rms_norm(2048, {2048}, {GgmlType::F32, GgmlType::F16});
  check_rms_norm(1100, {1100}, {GgmlType::F32});
}

TEST_P(VulkanOps, RopeNormalAndNeoxWithFreqFactors) { check_rope({64}); }

TEST_P(VulkanOps, SwigluAddAndBias) { check_swiglu_add_and_bias(); }

TEST_P(VulkanOps, ArgmaxRowsFindsTheFirstMaximum) { check_argmax_rows(); }

TEST_P(VulkanOps, RopeAndStoreMatchesItsSteps) { check_rope_and_store(false); }

TEST_P(VulkanOps, StoreRowsRoundsToHalfExactly) { check_store_rows(); }

// The read probe behind `anychip bench`'s roofline: some real rate, not 0 ("unknown") or inf.
TEST_P(VulkanOps, BandwidthProbeMeasuresAPositiveRate) {
  const double gbs = dev->measure_read_bandwidth_gbs();
  EXPECT_TRUE(std::isfinite(gbs)) << gbs;
  EXPECT_GT(gbs, 0.0);
}

INSTANTIATE_TEST_SUITE_P(Modes, VulkanOps, ::testing::ValuesIn(kVulkanModes), mode_name);

}  // namespace
}  // namespace anychip::testing
