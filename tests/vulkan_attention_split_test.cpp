// Vulkan attention at context lengths where the keys are split over several workgroups and
// merged (attention_split.comp + attention_merge.comp): long sequences (700, 2000 keys), GQA
// groups of 1, 4 and 8, head_dim 64 and 128, f16 and f32 caches, and decode batches whose rows
// have very different lengths (so some rows use fewer chunks than the dispatch has), against
// ref::attention_head with the tolerances of check_paged_attention (support/op_checks.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "support/vulkan_fixture.h"

namespace anychip::testing {
namespace {

class VulkanAttentionSplit : public VulkanTest {
 protected:
  struct Case {
    GgmlType cache_type;
    int head_dim, n_head, n_head_kv;
    std::vector<int32_t> seq_lens;  // keys cached per sequence
    std::vector<Query> queries;
  };

  void check(const Case& c) {
    const int block_size = 16;
    const int32_t longest = *std::max_element(c.seq_lens.begin(), c.seq_lens.end());
    const int max_blocks = (longest + block_size - 1) / block_size;
    const int n_seqs = static_cast<int>(c.seq_lens.size());
    const int n_blocks = max_blocks * n_seqs;
    // Every sequence gets blocks scattered over the whole cache.
    std::vector<int32_t> table(static_cast<size_t>(n_blocks));
    std::iota(table.begin(), table.end(), 0);
    std::shuffle(table.begin(), table.end(), std::mt19937(5));

    const int64_t kv_dim = static_cast<int64_t>(c.n_head_kv) * c.head_dim, q_dim = static_cast<int64_t>(c.n_head) * c.head_dim;
    const int64_t cache_rows = static_cast<int64_t>(n_blocks) * block_size;
    const size_t elem = c.cache_type == GgmlType::F16 ? 2 : 4;
    const size_t row_stride = static_cast<size_t>(kv_dim) * elem;
    std::vector<uint8_t> k(row_stride * cache_rows), v(row_stride * cache_rows);
    for (auto* cache : {&k, &v}) {
      const auto f = random_floats(static_cast<size_t>(cache_rows * kv_dim), cache == &k ? 31 : 32);
      quant::quantize_row(c.cache_type, f.data(), cache->data(), cache_rows * kv_dim);
    }
    const backend::Tensor tk = upload(k.data(), k.size(), c.cache_type, kv_dim, cache_rows, row_stride, 0);
    const backend::Tensor tv = upload(v.data(), v.size(), c.cache_type, kv_dim, cache_rows, row_stride, 0);

    const auto q = random_floats(c.queries.size() * static_cast<size_t>(q_dim), 33, 2.0f);
    std::vector<int32_t> positions, row_seq;
    for (const Query& qr : c.queries) {
      ASSERT_LT(qr.position, c.seq_lens[qr.seq]);
      positions.push_back(qr.position);
      row_seq.push_back(qr.seq);
    }
    const backend::Tensor tq = upload_f32(q, q_dim);
    const backend::Tensor out = upload_f32(std::vector<float>(q.size(), -7.0f), q_dim);
    backend::KvPages pages{block_size, max_blocks, table, row_seq};
    backend::AttentionParams p{c.n_head, c.n_head_kv, c.head_dim, 1.0f / std::sqrt(static_cast<float>(c.head_dim))};
    dev->attention(tq, tk, tv, positions, pages, p, out);
    const auto got = download_f32(out);

    std::vector<float> k32(static_cast<size_t>(cache_rows * kv_dim)), v32(k32.size()), q32(q);
    ref::to_f32(c.cache_type, k.data(), k32.data(), cache_rows * kv_dim);
    ref::to_f32(c.cache_type, v.data(), v32.data(), cache_rows * kv_dim);
    if (c.cache_type == GgmlType::F16) {
      ref::round_activations(GgmlType::F16, q.data(), q32.data(), static_cast<int64_t>(q.size()), nullptr);
    }
    std::vector<float> want(static_cast<size_t>(c.head_dim));
    for (size_t t = 0; t < c.queries.size(); ++t) {
      for (int h = 0; h < c.n_head; ++h) {
        const int64_t kv_offset = static_cast<int64_t>(h / (c.n_head / c.n_head_kv)) * c.head_dim;
        const int32_t* blocks = &table[static_cast<size_t>(c.queries[t].seq) * max_blocks];
        ref::attention_head(&q32[t * q_dim + h * c.head_dim], reinterpret_cast<const uint8_t*>(k32.data()),
                            reinterpret_cast<const uint8_t*>(v32.data()), GgmlType::F32, kv_dim * sizeof(float),
                            kv_offset, blocks, block_size, c.head_dim, c.queries[t].position + 1, p.scale, want.data());
        for (int d = 0; d < c.head_dim; ++d) {
          ASSERT_NEAR(got[t * q_dim + h * c.head_dim + d], want[d], 2e-5f)
              << type_name(c.cache_type) << " head_dim " << c.head_dim << " query " << t << " head " << h << " dim " << d;
        }
      }
    }
  }
};

TEST_P(VulkanAttentionSplit, LongContextDecodeF16) {
  for (int head_dim : {64, 128}) check({GgmlType::F16, head_dim, 8, 2, {700}, {{0, 699}}});
  check({GgmlType::F16, 64, 32, 8, {2000}, {{0, 1999}}});  // Llama-3.2-1B's shape
}

TEST_P(VulkanAttentionSplit, LongContextDecodeF32) {
  for (int head_dim : {64, 128}) check({GgmlType::F32, head_dim, 4, 4, {2000}, {{0, 1999}}});
}

TEST_P(VulkanAttentionSplit, DecodeBatchOfDifferentLengths) {
  const std::vector<int32_t> lens = {700, 1, 65, 2000, 33};
  const std::vector<Query> rows = {{0, 699}, {1, 0}, {2, 64}, {3, 1999}, {4, 32}, {3, 1000}, {0, 31}};
  check({GgmlType::F16, 64, 8, 1, lens, rows});
  check({GgmlType::F32, 128, 8, 8, lens, rows});
}

TEST_P(VulkanAttentionSplit, PrefillRowsOfALongSequence) {
  std::vector<Query> rows;
  for (int32_t pos = 650; pos < 700; ++pos) rows.push_back({0, pos});
  check({GgmlType::F16, 64, 4, 2, {700}, rows});
}

INSTANTIATE_TEST_SUITE_P(Modes, VulkanAttentionSplit, ::testing::ValuesIn(kVulkanModes), mode_name);

}  // namespace
}  // namespace anychip::testing
