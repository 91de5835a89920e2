// The CUDA row-wise and element-wise kernels against the CPU reference ops: rms_norm (whole
// rows, per-head groups, in place, f16/bf16 weights), rope (normal and NEOX, freq_factors,
// freq_scale, two batches of different positions), swiglu, add, add_bias, and store_rows'
// f32 -> f16 rounding bit for bit (including NaN, infinities and subnormals).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "backend/cpu/reference_ops.h"
#include "quant/quant.h"
#include "support/cuda_fixture.h"

namespace anychip::testing::cudatest {
namespace {

class CudaOps : public CudaTest {};

void expect_close(const std::vector<float>& got, const std::vector<float>& want, float rel, const char* what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_NEAR(got[i], want[i], rel * std::fabs(want[i]) + 1e-6f) << what << " element " << i;
  }
}

TEST_F(CudaOps, RmsNormRowsGroupsAndInPlace) {
  const int64_t rows = 3, cols = 640;
  const auto x = random_floats(rows * cols, 1, 3.0f);
  for (int64_t group : {cols, int64_t{64}, int64_t{32}}) {
    for (GgmlType wtype : {GgmlType::F32, GgmlType::F16, GgmlType::BF16}) {
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

TEST_F(CudaOps, RopeNormalAndNeoxWithFreqFactors) {
  for (int head_dim : {64, 128}) {
    const int heads = 3;
    const std::vector<int32_t> positions = {0, 5, 17, 1000, 4095};
    const int64_t rows = static_cast<int64_t>(positions.size()), cols = heads * head_dim;
    std::vector<float> factors(head_dim / 2);
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
        dev->rope(tx.row_range(1, 2), std::span(positions).subspan(1, 2), p);  // a second, different batch
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

TEST_F(CudaOps, SwigluAddAndBias) {
  const int64_t rows = 4, cols = 300;
  const auto g = random_floats(rows * cols, 7, 4.0f), u = random_floats(rows * cols, 8), b = random_floats(cols, 9);
  std::vector<float> want(g.size());
  for (int64_t r = 0; r < rows; ++r) ref::swiglu(&g[r * cols], &u[r * cols], &want[r * cols], cols);
  const backend::Tensor tg = upload_f32(g, cols), tu = upload_f32(u, cols);
  dev->swiglu(tg, tu, tg);  // out = gate, as the model calls it
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

TEST_F(CudaOps, StoreRowsRoundsToHalfExactly) {
  const int64_t cols = 16;
  std::vector<float> src = random_floats(3 * cols, 11, 100.0f);
  // Values at the edges of f16: ties, overflow to inf, subnormals, NaN, signed zero.
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
      ASSERT_EQ(got[rows[t] * cols + c], quant::fp32_to_fp16(src[t * cols + c])) << "value " << src[t * cols + c];
    }
  }
  EXPECT_EQ(got[0], 0);  // rows not named stay untouched

  const backend::Tensor cache32 = upload_f32(std::vector<float>(cache_rows * cols, 0.0f), cols);
  dev->store_rows(ts, rows, cache32);
  const auto got32 = download_f32(cache32);
  for (size_t t = 0; t < rows.size(); ++t) {
    EXPECT_EQ(std::memcmp(&got32[rows[t] * cols], &src[t * cols], cols * sizeof(float)), 0);
  }
  const std::vector<int32_t> outside = {0, 8, 1};
  EXPECT_THROW(dev->store_rows(ts, outside, cache), Error);
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
