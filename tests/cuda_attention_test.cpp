// The CUDA attention kernel over a paged KV cache, as a serving batch uses it: several
// sequences, block tables neither contiguous nor in order, GQA, f16 and f32 caches, head sizes
// that do and do not fill a warp's lanes, against ref::attention_head. Three layouts of query
// rows exercise both kernel shapes: decode (one row per sequence, interleaved), prefill (runs of
// consecutive rows of one sequence, tiled), and a mix (support/op_checks.h).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "backend/cpu/reference_ops.h"
#include "quant/quant.h"
#include "support/cuda_fixture.h"

namespace anychip::testing::cudatest {
namespace {

class CudaAttention : public CudaTest {};

TEST_F(CudaAttention, DecodeRowsF16Cache) {
  for (int head_dim : {64, 128, 256}) check_paged_attention(GgmlType::F16, head_dim, decode_rows(), 16);
}

TEST_F(CudaAttention, DecodeRowsF32Cache) {
  for (int head_dim : {32, 80}) check_paged_attention(GgmlType::F32, head_dim, decode_rows(), 16);
}

TEST_F(CudaAttention, PrefillTilesF16Cache) {
  for (int head_dim : {64, 128, 256}) check_paged_attention(GgmlType::F16, head_dim, prefill_rows(), 16);
}

TEST_F(CudaAttention, PrefillTilesF32CacheAndOddHeadSize) {
  for (int head_dim : {32, 80}) check_paged_attention(GgmlType::F32, head_dim, prefill_rows(), 16);
  check_paged_attention(GgmlType::F16, 40, prefill_rows(), 16);  // rows too short for 16-byte loads
}

TEST_F(CudaAttention, LongContextUsesEveryWarp) {
  // One sequence of 300 keys in blocks of 16: every warp of a block takes several runs of keys.
  const int head_dim = 128, block_size = 16, n_blocks = 20;
  const int64_t cache_rows = static_cast<int64_t>(n_blocks) * block_size;
  std::vector<int32_t> table(n_blocks);
  for (int b = 0; b < n_blocks; ++b) table[b] = (b * 7) % n_blocks;
  const std::vector<int32_t> positions = {299, 150, 151, 152}, row_seq = {0, 0, 0, 0};
  std::vector<uint16_t> k(static_cast<size_t>(cache_rows * head_dim)), v(k.size());
  const auto kf = random_floats(k.size(), 31), vf = random_floats(v.size(), 32);
  quant::quantize_row(GgmlType::F16, kf.data(), k.data(), static_cast<int64_t>(k.size()));
  quant::quantize_row(GgmlType::F16, vf.data(), v.data(), static_cast<int64_t>(v.size()));
  const backend::Tensor tk = upload(k.data(), k.size() * 2, GgmlType::F16, head_dim, cache_rows, head_dim * 2);
  const backend::Tensor tv = upload(v.data(), v.size() * 2, GgmlType::F16, head_dim, cache_rows, head_dim * 2);
  const auto q = random_floats(positions.size() * head_dim, 33, 3.0f);
  const backend::Tensor tq = upload_f32(q, head_dim);
  const backend::Tensor out = upload_f32(std::vector<float>(q.size()), head_dim);
  backend::KvPages pages{block_size, n_blocks, table, row_seq};
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  dev->attention(tq, tk, tv, positions, pages, {1, 1, head_dim, scale}, out);
  const auto got = download_f32(out);
  // Reference on the same numbers widened to f32 (query rounded to f16 as the kernel does).
  std::vector<float> k32(k.size()), v32(v.size()), q16(q.size()), want(head_dim);
  ref::to_f32(GgmlType::F16, k.data(), k32.data(), static_cast<int64_t>(k.size()));
  ref::to_f32(GgmlType::F16, v.data(), v32.data(), static_cast<int64_t>(v.size()));
  ref::round_activations(GgmlType::F16, q.data(), q16.data(), static_cast<int64_t>(q.size()), nullptr);
  for (size_t t = 0; t < positions.size(); ++t) {
    ref::attention_head(&q16[t * head_dim], reinterpret_cast<const uint8_t*>(k32.data()),
                        reinterpret_cast<const uint8_t*>(v32.data()), GgmlType::F32, head_dim * 4, 0, table.data(),
                        block_size, head_dim, positions[t] + 1, scale, want.data());
    for (int d = 0; d < head_dim; ++d) ASSERT_NEAR(got[t * head_dim + d], want[d], 2e-5f) << "row " << t << " dim " << d;
  }
}

TEST_F(CudaAttention, RejectsMissingBlocksWithAnError) { check_attention_rejects_missing_blocks(); }

}  // namespace
}  // namespace anychip::testing::cudatest
