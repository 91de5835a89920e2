// The CUDA attention kernel over a paged KV cache, as a serving batch uses it: several
// sequences, block tables neither contiguous nor in order, GQA, f16 and f32 caches, head sizes
// that do and do not fill a warp's lanes, against ref::attention_head. Three layouts of query
// rows exercise both kernel shapes: decode (one row per sequence, interleaved), prefill (runs of
// consecutive rows of one sequence, tiled), and a mix. The CPU reference accumulates values in
// f16 as llama.cpp's CPU path does while the kernel keeps f32 sums: f16 caches are checked
// tightly against the reference run on the same numbers widened to f32, loosely against the
// f16 path itself.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "backend/cpu/reference_ops.h"
#include "quant/quant.h"
#include "support/cuda_fixture.h"

namespace anychip::testing::cudatest {
namespace {

struct Query {
  int32_t seq, position;
};

// Interleaved single rows of different sequences (the decode kernel).
std::vector<Query> decode_rows() { return {{0, 39}, {1, 0}, {1, 33}, {1, 69}, {2, 4}, {0, 16}, {1, 64}}; }

// Runs of rows of one sequence (tiles of up to 8 rows), then a row of another sequence.
std::vector<Query> prefill_rows() {
  std::vector<Query> q;
  for (int p = 50; p < 70; ++p) q.push_back({1, p});
  for (int p = 0; p < 5; ++p) q.push_back({2, p});
  q.push_back({0, 39});
  return q;
}

class CudaAttention : public CudaTest {
 protected:
  void check_attention(GgmlType cache_type, int head_dim, const std::vector<Query>& queries);
};

void CudaAttention::check_attention(GgmlType cache_type, int head_dim, const std::vector<Query>& queries) {
  const int n_head = 4, n_head_kv = 2, block_size = 16, n_blocks = 12, max_blocks = 5;
  const int64_t kv_dim = static_cast<int64_t>(n_head_kv) * head_dim, q_dim = static_cast<int64_t>(n_head) * head_dim;
  const int64_t cache_rows = static_cast<int64_t>(n_blocks) * block_size;
  // Three sequences of 40, 70 and 5 keys in scattered blocks (unused entries point anywhere).
  const std::vector<int32_t> table = {7, 2, 9, 3, 3,  //
                                      0, 11, 4, 5, 1,  //
                                      10, 6, 6, 6, 6};
  const size_t elem = cache_type == GgmlType::F16 ? 2 : 4;
  const size_t row_stride = static_cast<size_t>(kv_dim) * elem;
  std::vector<uint8_t> k(row_stride * cache_rows), v(row_stride * cache_rows);
  for (auto* cache : {&k, &v}) {
    const auto f = random_floats(static_cast<size_t>(cache_rows * kv_dim), cache == &k ? 21 : 22);
    quant::quantize_row(cache_type, f.data(), cache->data(), cache_rows * kv_dim);
  }
  const backend::Tensor tk = upload(k.data(), k.size(), cache_type, kv_dim, cache_rows, row_stride, 16);
  const backend::Tensor tv = upload(v.data(), v.size(), cache_type, kv_dim, cache_rows, row_stride, 0);

  const auto q = random_floats(queries.size() * static_cast<size_t>(q_dim), 23, 2.0f);
  std::vector<int32_t> positions, row_seq;
  for (const Query& qr : queries) {
    positions.push_back(qr.position);
    row_seq.push_back(qr.seq);
  }
  const backend::Tensor tq = upload_f32(q, q_dim, 4);
  const backend::Tensor out = upload_f32(std::vector<float>(q.size(), -7.0f), q_dim);
  backend::KvPages pages{block_size, max_blocks, table, row_seq};
  backend::AttentionParams p{n_head, n_head_kv, head_dim, 1.0f / std::sqrt(static_cast<float>(head_dim))};
  dev->attention(tq, tk, tv, positions, pages, p, out);
  const auto got = download_f32(out);

  const bool half = cache_type == GgmlType::F16;
  std::vector<float> k32(static_cast<size_t>(cache_rows * kv_dim)), v32(k32.size()), q32(q);
  ref::to_f32(cache_type, k.data(), k32.data(), cache_rows * kv_dim);
  ref::to_f32(cache_type, v.data(), v32.data(), cache_rows * kv_dim);
  if (half) ref::round_activations(GgmlType::F16, q.data(), q32.data(), static_cast<int64_t>(q.size()), nullptr);

  std::vector<float> want(static_cast<size_t>(head_dim)), want_f16(want.size());
  for (size_t t = 0; t < queries.size(); ++t) {
    for (int h = 0; h < n_head; ++h) {
      const int64_t kv_offset = static_cast<int64_t>(h / (n_head / n_head_kv)) * head_dim;
      const int32_t* blocks = &table[static_cast<size_t>(queries[t].seq) * max_blocks];
      ref::attention_head(&q32[t * q_dim + h * head_dim], reinterpret_cast<const uint8_t*>(k32.data()),
                          reinterpret_cast<const uint8_t*>(v32.data()), GgmlType::F32, kv_dim * sizeof(float), kv_offset,
                          blocks, block_size, head_dim, queries[t].position + 1, p.scale, want.data());
      ref::attention_head(&q[t * q_dim + h * head_dim], k.data(), v.data(), cache_type, row_stride, kv_offset, blocks,
                          block_size, head_dim, queries[t].position + 1, p.scale, want_f16.data());
      for (int d = 0; d < head_dim; ++d) {
        const float g = got[t * q_dim + h * head_dim + d];
        ASSERT_NEAR(g, want[d], 2e-5f) << type_name(cache_type) << " head_dim " << head_dim << " query " << t
                                       << " head " << h << " dim " << d;
        ASSERT_NEAR(g, want_f16[d], 1e-2f) << "f16-accumulating reference, dim " << d;
      }
    }
  }
}

TEST_F(CudaAttention, DecodeRowsF16Cache) {
  for (int head_dim : {64, 128, 256}) check_attention(GgmlType::F16, head_dim, decode_rows());
}

TEST_F(CudaAttention, DecodeRowsF32Cache) {
  for (int head_dim : {32, 80}) check_attention(GgmlType::F32, head_dim, decode_rows());
}

TEST_F(CudaAttention, PrefillTilesF16Cache) {
  for (int head_dim : {64, 128, 256}) check_attention(GgmlType::F16, head_dim, prefill_rows());
}

TEST_F(CudaAttention, PrefillTilesF32CacheAndOddHeadSize) {
  for (int head_dim : {32, 80}) check_attention(GgmlType::F32, head_dim, prefill_rows());
  check_attention(GgmlType::F16, 40, prefill_rows());  // rows too short for 16-byte loads
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

TEST_F(CudaAttention, RejectsMissingBlocksWithAnError) {
  const int head_dim = 32;
  std::vector<uint16_t> cache(16 * head_dim, 0);
  const backend::Tensor tk = upload(cache.data(), cache.size() * 2, GgmlType::F16, head_dim, 16, head_dim * 2);
  const backend::Tensor tq = upload_f32(std::vector<float>(head_dim), head_dim);
  const std::vector<int32_t> table = {0}, row_seq = {0}, positions = {16};  // needs a second block
  backend::KvPages pages{16, 1, table, row_seq};
  EXPECT_THROW(dev->attention(tq, tk, tk, positions, pages, {1, 1, head_dim, 1.0f}, tq), Error);
}

}  // namespace
}  // namespace anychip::testing::cudatest
