// The CPU's fast f16-cache attention kernels (attention_kernels.h), every instruction set this CPU
// runs, every head size each serves and groups of 1 to 7 query heads on one KV head, against
// ref::attention_head per head on the same paged f16 cache:
// equal up to the float order of the query-key sums, which can move a value by one f16 step of
// the accumulator (the reference also accumulates in f16, as llama.cpp does).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "backend/cpu/kernels/attention_kernels.h"
#include "backend/cpu/reference_ops.h"
#include "quant/quant.h"
#include "support/usable_isa.h"

namespace anychip::cpu {
namespace {

TEST(AttentionKernels, MatchReferenceOnPagedF16Cache) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int block_size = 16, n_head_kv = 2;
  const std::vector<int32_t> blocks = {5, 0, 7, 2, 6, 1, 3, 4};  // scattered, out of order
  const int64_t cache_rows = static_cast<int64_t>(blocks.size()) * block_size;
  int checked = 0;
  for (int head_dim : {16, 64, 128, 256}) {
    const size_t row_stride = static_cast<size_t>(n_head_kv) * head_dim;  // halves
    std::vector<uint16_t> k(row_stride * cache_rows), v(k.size());
    for (auto* cache : {&k, &v}) {
      for (uint16_t& h : *cache) h = quant::fp32_to_fp16(normal(rng));
    }
    const int max_heads = 7;  // Qwen2-0.5B's group; 4 is Llama 3's
    std::vector<float> q(static_cast<size_t>(max_heads * head_dim));
    for (float& x : q) x = 2.0f * normal(rng);
    const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
    for (Isa isa : {Isa::Avx2, Isa::Avx512, Isa::Avx512Vnni, Isa::Neon}) {
      if (!testing::usable_here(isa)) continue;
      const AttentionGroupF16Fn fast = find_attention_f16(isa, head_dim);
      if (!fast) continue;
      for (int n_heads : {1, 2, 3, 4, 5, max_heads}) {
        for (int64_t n_keys : {int64_t{1}, int64_t{17}, cache_rows}) {
          const int64_t kv_offset = head_dim;  // the second KV head
          std::vector<float> got(static_cast<size_t>(n_heads * head_dim), std::nanf(""));
          fast(q.data(), n_heads, k.data() + kv_offset, v.data() + kv_offset, row_stride, blocks.data(), block_size,
               head_dim, n_keys, scale, got.data());
          for (int h = 0; h < n_heads; ++h) {
            std::vector<float> want(static_cast<size_t>(head_dim));
            ref::attention_head(q.data() + h * head_dim, reinterpret_cast<const uint8_t*>(k.data()),
                                reinterpret_cast<const uint8_t*>(v.data()), GgmlType::F16, row_stride * 2, kv_offset,
                                blocks.data(), block_size, head_dim, n_keys, scale, want.data());
            for (int d = 0; d < head_dim; ++d) {
              ASSERT_NEAR(got[h * head_dim + d], want[d], 2e-3f) << isa_name(isa) << " head_dim " << head_dim << " heads "
                                                                   << n_heads << " head " << h << " keys " << n_keys
                                                                   << " dim " << d;
            }
          }
          ++checked;
        }
      }
    }
  }
  if (checked == 0) GTEST_SKIP() << "no fast attention kernel on this CPU";
}

}  // namespace
}  // namespace anychip::cpu
