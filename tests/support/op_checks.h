#pragma once
// The ops of any device against the CPU reference ops, written once: each backend's op and
// attention tests (vulkan_*_test.cpp, cuda_*_test.cpp) call these with the shapes and types it
// supports.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <span>
#include <vector>

#include "backend/cpu/reference_ops.h"
#include "quant/quant.h"
#include "support/device_tensors.h"
#include "util/error.h"

namespace anychip::testing {

// Every weight type the backends multiply.
inline constexpr GgmlType kAllWeightTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0,
                                               GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0,
                                               GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K,
                                               GgmlType::Q6_K};

// A rows x cols weight matrix: rows of very different scales, one all-zero row, asymmetric rows
// for the types with a min.
inline std::vector<uint8_t> random_weights(GgmlType type, int64_t rows, int64_t cols, uint32_t seed) {
  const size_t rb = row_bytes(type, cols);
  std::vector<uint8_t> w(rb * static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<float> row = random_floats(static_cast<size_t>(cols), seed + static_cast<uint32_t>(r));
    const float scale = r == 2 ? 0.0f : std::ldexp(1.0f, static_cast<int>(r % 5) - 2);
    for (auto& v : row) v = v * scale + (r % 3 == 1 ? 0.4f * scale : 0.0f);
    quant::quantize_row(type, row.data(), w.data() + rb * static_cast<size_t>(r), cols);
  }
  return w;
}

// Matmul shapes per type: columns a multiple of the block size, plus a ragged float case.
inline std::vector<int64_t> matmul_cols_for(GgmlType type) {
  const int64_t block = type_traits(type).block_size;
  if (block == 1) return {50, 256};
  if (block == 32) return {96, 512};
  return {256, 768};
}

// Tensor data starts at an even but not 4-aligned byte offset (float32 tables: 4-aligned), as
// tensors can inside a model file.
inline size_t odd_offset(GgmlType type) { return type == GgmlType::F32 ? 8 : 6; }

class DeviceOpChecks : public DeviceTensors {
 protected:
  // rms_norm over whole rows and per-group (Qwen3's per-head norms), into another tensor and in
  // place, for each weight type.
  void check_rms_norm(int64_t cols, std::initializer_list<int64_t> groups, std::initializer_list<GgmlType> wtypes) {
    const int64_t rows = 3;
    const auto x = random_floats(static_cast<size_t>(rows * cols), 1, 3.0f);
    for (int64_t group : groups) {
      for (GgmlType wtype : wtypes) {
        SCOPED_TRACE(std::string("group ") + std::to_string(group) + ", weights " + type_traits(wtype).name);
        const auto wf = random_floats(static_cast<size_t>(group), 2);
        std::vector<uint8_t> wbytes(row_bytes(wtype, group));
        quant::quantize_row(wtype, wf.data(), wbytes.data(), group);
        std::vector<float> w(static_cast<size_t>(group));
        ref::to_f32(wtype, wbytes.data(), w.data(), group);
        const backend::Tensor tw = upload(wbytes.data(), wbytes.size(), wtype, group, 1, wbytes.size(), 4);
        std::vector<float> want(x.size());
        for (int64_t r = 0; r < rows; ++r) {
          for (int64_t g = 0; g < cols / group; ++g) {
            ref::rms_norm(&x[r * cols + g * group], w.data(), 1e-5f, &want[r * cols + g * group], group);
          }
        }
        const backend::Tensor tx = upload_f32(x, cols);
        const backend::Tensor ty = upload_f32(std::vector<float>(x.size()), cols);
        dev->rms_norm(tx, tw, 1e-5f, ty);
        expect_close(download_f32(ty), want, 1e-5f, "rms_norm");
        dev->rms_norm(tx, tw, 1e-5f, tx);  // in place
        expect_close(download_f32(tx), want, 1e-5f, "rms_norm in place");
      }
    }
  }

  // rope, normal and NEOX, with and without Llama 3 freq_factors and a freq_scale, then a second
  // batch of different positions over some of the same rows.
  void check_rope(std::initializer_list<int> head_dims) {
    for (int head_dim : head_dims) {
      const int heads = 3;
      const std::vector<int32_t> positions = {0, 5, 17, 1000, 4095};
      const int64_t rows = static_cast<int64_t>(positions.size()), cols = heads * head_dim;
      std::vector<float> factors(static_cast<size_t>(head_dim / 2));
      for (size_t i = 0; i < factors.size(); ++i) factors[i] = 1.0f + static_cast<float>(i % 5);
      for (auto style : {backend::RopeStyle::Normal, backend::RopeStyle::Neox}) {
        for (bool with_factors : {false, true}) {
          backend::RopeParams p;
          p.style = style;
          p.head_dim = head_dim;
          p.theta = 500000.0f;
          p.freq_scale = with_factors ? 0.25f : 1.0f;
          p.freq_factors = with_factors ? factors.data() : nullptr;
          auto x = random_floats(static_cast<size_t>(rows * cols), 5);
          const backend::Tensor tx = upload_f32(x, cols, 8);
          dev->rope(tx, positions, p);
          dev->rope(tx.row_range(1, 2), std::span(positions).subspan(1, 2), p);
          for (int64_t t = 0; t < rows; ++t) {
            for (int h = 0; h < heads; ++h) {
              ref::rope(&x[t * cols + h * head_dim], positions[t], p);
              if (t == 1 || t == 2) ref::rope(&x[t * cols + h * head_dim], positions[t], p);
            }
          }
          expect_close(download_f32(tx), x, 1e-6f, "rope");
        }
      }
    }
  }

  // rope_and_store must do exactly what rope, rope, store_rows, store_rows do (a device may run
  // them as one kernel): GQA heads, both rope styles with frequency factors, f16 and f32 caches,
  // rows going to scattered cache rows. With range_errors, a cache row past the cache must be
  // refused (devices whose caches the host cannot check for free leave that to the engine).
  void check_rope_and_store(bool range_errors) {
    const int head_dim = 64, q_heads = 4, kv_heads = 2, rows = 3, cache_rows_n = 10;
    const std::vector<float> factors = random_floats(head_dim / 2, 31, 1.0f);
    std::vector<float> freq(factors.size());
    for (size_t i = 0; i < freq.size(); ++i) freq[i] = 1.0f + std::fabs(factors[i]);
    const std::vector<int32_t> positions = {0, 7, 300}, cache_rows = {9, 2, 5};
    for (GgmlType ctype : {GgmlType::F16, GgmlType::F32}) {
      for (backend::RopeStyle style : {backend::RopeStyle::Normal, backend::RopeStyle::Neox}) {
        backend::RopeParams p;
        p.style = style;
        p.head_dim = head_dim;
        p.theta = 500000.0f;
        p.freq_factors = freq.data();
        const auto q = random_floats(rows * q_heads * head_dim, 32, 2.0f);
        const auto k = random_floats(rows * kv_heads * head_dim, 33, 2.0f);
        const auto v = random_floats(rows * kv_heads * head_dim, 34, 2.0f);
        const size_t crow = row_bytes(ctype, kv_heads * head_dim);
        std::vector<std::vector<float>> got_q(2), got_k(2);
        std::vector<std::vector<uint8_t>> got_kc(2), got_vc(2);
        const auto raw = [&](const backend::Tensor& t) {
          std::vector<uint8_t> bytes(crow * cache_rows_n);
          t.buffer->read(t.offset, bytes.data(), bytes.size());
          return bytes;
        };
        for (int fused = 0; fused < 2; ++fused) {
          const backend::Tensor tq = upload_f32(q, q_heads * head_dim), tk = upload_f32(k, kv_heads * head_dim),
                                tv = upload_f32(v, kv_heads * head_dim);
          std::vector<uint8_t> zeros(crow * cache_rows_n);
          const backend::Tensor kc = upload(zeros.data(), zeros.size(), ctype, kv_heads * head_dim, cache_rows_n, crow, 0);
          const backend::Tensor vc = upload(zeros.data(), zeros.size(), ctype, kv_heads * head_dim, cache_rows_n, crow, 0);
          if (fused) {
            dev->rope_and_store(tq, tk, tv, positions, p, cache_rows, kc, vc);
          } else {
            dev->rope(tq, positions, p);
            dev->rope(tk, positions, p);
            dev->store_rows(tk, cache_rows, kc);
            dev->store_rows(tv, cache_rows, vc);
          }
          got_q[fused] = download_f32(tq);
          got_k[fused] = download_f32(tk);
          got_kc[fused] = raw(kc);
          got_vc[fused] = raw(vc);
        }
        const char* what = ctype == GgmlType::F16 ? "f16 cache" : "f32 cache";
        EXPECT_EQ(got_q[0], got_q[1]) << what;
        EXPECT_EQ(got_k[0], got_k[1]) << what;
        EXPECT_EQ(got_kc[0], got_kc[1]) << what;
        EXPECT_EQ(got_vc[0], got_vc[1]) << what;
      }
    }
    if (!range_errors) return;
    std::vector<uint8_t> zeros(2 * 4 * kv_heads * head_dim);
    const backend::Tensor small = upload(zeros.data(), zeros.size(), GgmlType::F32, kv_heads * head_dim, 2, 4 * kv_heads * head_dim, 0);
    const backend::Tensor tq = upload_f32(std::vector<float>(rows * q_heads * head_dim), q_heads * head_dim);
    const backend::Tensor tk = upload_f32(std::vector<float>(rows * kv_heads * head_dim), kv_heads * head_dim);
    backend::RopeParams p;
    p.head_dim = head_dim;
    EXPECT_THROW(dev->rope_and_store(tq, tk, tk, positions, p, cache_rows, small, small), Error);  // rows 9, 2, 5 of 2
  }

  // Greedy sampling's argmax, per row: the first maximum on ties, as std::max_element picks;
  // a vocabulary-sized row, a tie, a row of -inf, and a row whose maximum is its last column.
  void check_argmax_rows() {
    const int64_t cols = 128256, rows = 5;
    auto x = random_floats(static_cast<size_t>(rows * cols), 11, 8.0f);
    x[1 * cols + 1000] = x[1 * cols + 77777] = 50.0f;  // tie: 1000 wins
    for (int64_t c = 0; c < cols; ++c) x[2 * cols + c] = -std::numeric_limits<float>::infinity();
    x[3 * cols + cols - 1] = 60.0f;
    const backend::Tensor tx = upload_f32(x, cols, 4);
    std::vector<int32_t> got(static_cast<size_t>(rows), -1);
    dev->argmax_rows(tx, got);
    for (int64_t r = 0; r < rows; ++r) {
      const auto row = x.begin() + r * cols;
      EXPECT_EQ(got[static_cast<size_t>(r)], std::max_element(row, row + cols) - row) << "row " << r;
    }
    EXPECT_EQ(got[1], 1000);
    EXPECT_EQ(got[2], 0);
    EXPECT_EQ(got[3], cols - 1);
    std::vector<int32_t> too_few(2);
    EXPECT_THROW(dev->argmax_rows(tx, too_few), Error);
  }

  // swiglu into its gate (as the model calls it), add, then add_bias with each bias type.
  void check_swiglu_add_and_bias() {
    const int64_t rows = 4, cols = 300;
    const auto g = random_floats(rows * cols, 7, 4.0f), u = random_floats(rows * cols, 8), b = random_floats(cols, 9);
    std::vector<float> want(g.size());
    for (int64_t r = 0; r < rows; ++r) ref::swiglu(&g[r * cols], &u[r * cols], &want[r * cols], cols);
    const backend::Tensor tg = upload_f32(g, cols), tu = upload_f32(u, cols);
    dev->swiglu(tg, tu, tg);
    expect_close(download_f32(tg), want, 1e-6f, "swiglu");

    dev->add(tu, tg);
    for (size_t i = 0; i < want.size(); ++i) want[i] += u[i];
    expect_close(download_f32(tg), want, 1e-6f, "add");

    for (GgmlType btype : {GgmlType::F32, GgmlType::F16, GgmlType::BF16}) {
      std::vector<uint8_t> bytes(row_bytes(btype, cols));
      quant::quantize_row(btype, b.data(), bytes.data(), cols);
      std::vector<float> bf(static_cast<size_t>(cols));
      ref::to_f32(btype, bytes.data(), bf.data(), cols);
      const backend::Tensor tb = upload(bytes.data(), bytes.size(), btype, cols, 1, bytes.size(), 4);
      dev->add_bias(tb, tg);
      for (size_t i = 0; i < want.size(); ++i) want[i] += bf[i % static_cast<size_t>(cols)];
      expect_close(download_f32(tg), want, 1e-6f, "add_bias");
    }
  }

  // store_rows into an f16 cache rounds exactly as quant::fp32_to_fp16 (ties, overflow to inf,
  // subnormals, NaN, signed zero) and leaves other rows alone; into an f32 cache it copies.
  // Returns the source rows and the f16 cache, for a backend's own further checks.
  std::pair<backend::Tensor, backend::Tensor> check_store_rows() {
    const int64_t cols = 16;
    std::vector<float> src = random_floats(3 * cols, 11, 100.0f);
    const float specials[] = {65504.0f, 65519.0f, 65520.0f, 1e6f, -1e6f, 6.1e-5f, 3.0e-7f, 5.96e-8f, 2.9e-8f,
                              -0.0f, 1.0f + 1.0f / 2048, 1.0f + 3.0f / 2048, std::numeric_limits<float>::infinity(),
                              std::numeric_limits<float>::quiet_NaN(), 1e-30f, -2.5e-6f};
    std::copy(std::begin(specials), std::end(specials), src.begin());
    const backend::Tensor ts = upload_f32(src, cols);
    const int64_t cache_rows = 8;
    std::vector<uint16_t> zeros(static_cast<size_t>(cache_rows * cols), 0);
    const backend::Tensor cache = upload(zeros.data(), zeros.size() * 2, GgmlType::F16, cols, cache_rows, cols * 2, 4);
    const std::vector<int32_t> rows = {6, 1, 3};
    dev->store_rows(ts, rows, cache);
    std::vector<uint16_t> got(zeros.size());
    cache.buffer->read(cache.offset, got.data(), got.size() * 2);
    for (size_t t = 0; t < rows.size(); ++t) {
      for (int64_t c = 0; c < cols; ++c) {
        EXPECT_EQ(got[rows[t] * cols + c], quant::fp32_to_fp16(src[t * cols + c])) << "value " << src[t * cols + c];
      }
    }
    EXPECT_EQ(got[0], 0);  // rows not named stay untouched

    const backend::Tensor cache32 = upload_f32(std::vector<float>(cache_rows * cols, 0.0f), cols);
    dev->store_rows(ts, rows, cache32);
    const auto got32 = download_f32(cache32);
    for (size_t t = 0; t < rows.size(); ++t) {
      EXPECT_EQ(std::memcmp(&got32[rows[t] * cols], &src[t * cols], cols * sizeof(float)), 0);
    }
    return {ts, cache};
  }

  struct Query {
    int32_t seq, position;
  };
  // Interleaved single rows of different sequences (what decoding batches look like).
  static std::vector<Query> decode_rows() { return {{0, 39}, {1, 0}, {1, 33}, {1, 69}, {2, 4}, {0, 16}, {1, 64}}; }
  // Runs of consecutive rows of one sequence (prefill), then a row of another sequence.
  static std::vector<Query> prefill_rows() {
    std::vector<Query> q;
    for (int p = 50; p < 70; ++p) q.push_back({1, p});
    for (int p = 0; p < 5; ++p) q.push_back({2, p});
    q.push_back({0, 39});
    return q;
  }

  // Paged attention as a serving batch uses it: three sequences (40, 70 and 5 keys) in blocks of
  // 16 scattered out of order, GQA, against ref::attention_head. The reference accumulates values
  // in f16 as llama.cpp's CPU path does while devices keep f32 sums: f16 caches are checked
  // tightly against the reference on the same numbers widened to f32 (query rounded to f16 as both
  // do), loosely against the f16 path itself. The K cache starts k_offset bytes into its buffer.
  void check_paged_attention(GgmlType cache_type, int head_dim, const std::vector<Query>& queries, size_t k_offset) {
    const int n_head = 4, n_head_kv = 2, block_size = 16, n_blocks = 12, max_blocks = 5;
    const int64_t kv_dim = static_cast<int64_t>(n_head_kv) * head_dim, q_dim = static_cast<int64_t>(n_head) * head_dim;
    const int64_t cache_rows = static_cast<int64_t>(n_blocks) * block_size;
    // Unused entries point anywhere.
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
    const backend::Tensor tk = upload(k.data(), k.size(), cache_type, kv_dim, cache_rows, row_stride, k_offset);
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
                            reinterpret_cast<const uint8_t*>(v32.data()), GgmlType::F32, kv_dim * sizeof(float),
                            kv_offset, blocks, block_size, head_dim, queries[t].position + 1, p.scale, want.data());
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

  // A position past the sequence's blocks is an error, not a read of whatever memory follows.
  void check_attention_rejects_missing_blocks() {
    const int head_dim = 32;
    std::vector<uint16_t> cache(16 * head_dim, 0);
    const backend::Tensor tk = upload(cache.data(), cache.size() * 2, GgmlType::F16, head_dim, 16, head_dim * 2);
    const backend::Tensor tq = upload_f32(std::vector<float>(head_dim), head_dim);
    const std::vector<int32_t> table = {0}, row_seq = {0}, positions = {16};  // needs a second block
    backend::KvPages pages{16, 1, table, row_seq};
    EXPECT_THROW(dev->attention(tq, tk, tk, positions, pages, {1, 1, head_dim, 1.0f}, tq), Error);
  }
};

}  // namespace anychip::testing
