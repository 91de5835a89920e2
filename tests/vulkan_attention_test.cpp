// The Vulkan attention shader over a paged KV cache, as a serving batch uses it: several
// sequences in one call, block tables that are neither contiguous nor in order, block_size 16,
// GQA, sequences longer than one tile of keys, f16 and f32 caches, against ref::attention_head
// (support/op_checks.h).
#include <gtest/gtest.h>

#include "support/vulkan_fixture.h"

namespace anychip::testing {
namespace {

class VulkanAttention : public VulkanTest {};

TEST_P(VulkanAttention, PagedF16CacheSeveralSequences) {
  for (int head_dim : {64, 128, 256}) check_paged_attention(GgmlType::F16, head_dim, decode_rows(), 8);
}

TEST_P(VulkanAttention, PagedF32CacheSeveralSequences) {
  for (int head_dim : {32, 80}) check_paged_attention(GgmlType::F32, head_dim, decode_rows(), 8);
}

TEST_P(VulkanAttention, RejectsMissingBlocksWithAnError) { check_attention_rejects_missing_blocks(); }

INSTANTIATE_TEST_SUITE_P(Modes, VulkanAttention, ::testing::ValuesIn(kVulkanModes), mode_name);

}  // namespace
}  // namespace anychip::testing
