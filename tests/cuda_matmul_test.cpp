// The CUDA matmul and get_rows kernels for every weight type against the CPU reference
// (ref::to_f32 dequantization, dot products in double): decode batches of 1..8 tokens (the
// matrix-vector kernels, quantized weights against 8-bit activations as the reference rounds
// them) and larger batches (cuBLAS: f32 SGEMM, f16/bf16 operands, quantized weights expanded to
// f16), with tensors starting at unaligned byte offsets. get_rows must match bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "backend/cpu/reference_ops.h"
#include "quant/quant.h"
#include "support/cuda_fixture.h"

namespace anychip::testing::cudatest {
namespace {

constexpr int64_t kMatvecMaxTokens = 8;  // kernels::kMatvecMaxTokens: the batch the kernels switch at

bool quantized(GgmlType t) { return type_traits(t).block_size > 1; }

float round_f16(float v) { return quant::fp16_to_fp32(quant::fp32_to_fp16(v)); }
float round_bf16(float v) { return quant::bf16_to_fp32(quant::fp32_to_bf16(v)); }

// The activations as the kernels are specified to see them: 8-bit blocks of 32 for quantized
// weights in decode batches (as ref::round_activations rounds to Q8_0), the weight's half type
// for f16/bf16 weights, f16 for quantized weights in cuBLAS batches.
std::vector<float> rounded_activations(GgmlType w, int64_t tokens, const std::vector<float>& x, int64_t cols) {
  std::vector<float> out(x.size());
  const bool batched = tokens > kMatvecMaxTokens;
  for (size_t i = 0; i < x.size(); ++i) {
    out[i] = w == GgmlType::F16 || (batched && quantized(w)) ? round_f16(x[i]) : w == GgmlType::BF16 ? round_bf16(x[i]) : x[i];
  }
  if (quantized(w) && !batched) {
    for (int64_t t = 0; t < tokens; ++t) {
      ref::round_activations(GgmlType::Q8_0, &x[t * cols], &out[t * cols], cols, nullptr);
    }
  }
  return out;
}

class CudaMatmul : public CudaTest {
 protected:
  // A random rows x cols weight matrix on the device, `offset` bytes into its buffer, and the
  // reference's f32 values of it.
  struct Weights {
    backend::Tensor tensor;
    std::vector<float> f32;
  };
  Weights random_matrix(GgmlType type, int64_t rows, int64_t cols, uint32_t seed, size_t offset) {
    const auto w = random_weights(type, rows, cols, seed);
    const size_t rb = row_bytes(type, cols);
    Weights out{upload(w.data(), w.size(), type, cols, rows, rb, offset), std::vector<float>(static_cast<size_t>(rows * cols))};
    for (int64_t r = 0; r < rows; ++r) ref::to_f32(type, w.data() + rb * r, out.f32.data() + r * cols, cols);
    return out;
  }
  // y = w x on the device, x uploaded `x_offset` bytes into its buffer and y pre-filled with -1
  // so a row the kernels skip shows.
  std::vector<float> multiply(const backend::Tensor& w, const std::vector<float>& x, size_t x_offset = 0) {
    const int64_t tokens = static_cast<int64_t>(x.size()) / w.cols;
    const backend::Tensor tx = upload_f32(x, w.cols, x_offset);
    const backend::Tensor ty = upload_f32(std::vector<float>(static_cast<size_t>(tokens * w.rows), -1.0f), w.rows);
    dev->matmul(w, tx, ty);
    return download_f32(ty);
  }
  // Every y[t][r] within rel * sum|w x| (+1e-6) of the double-precision dot product of weight row r
  // (the f32 values, rounded to f16 first where cuBLAS multiplies a batch) and activation row t.
  static ::testing::AssertionResult near_dot_products(const std::vector<float>& y, const std::vector<float>& wf,
                                                      const std::vector<float>& xr, int64_t rows, int64_t cols,
                                                      bool f16_weights, double rel) {
    const int64_t tokens = static_cast<int64_t>(xr.size()) / cols;
    for (int64_t t = 0; t < tokens; ++t) {
      for (int64_t r = 0; r < rows; ++r) {
        double want = 0, magnitude = 0;
        for (int64_t c = 0; c < cols; ++c) {
          const double wv = f16_weights ? round_f16(wf[r * cols + c]) : wf[r * cols + c];
          want += wv * xr[t * cols + c];
          magnitude += std::fabs(wv * xr[t * cols + c]);
        }
        const double got = y[t * rows + r];
        if (!(std::fabs(got - want) <= rel * magnitude + 1e-6)) {
          return ::testing::AssertionFailure() << "token " << t << " row " << r << ": got " << got << ", want " << want
                                               << " within " << rel * magnitude + 1e-6;
        }
      }
    }
    return ::testing::AssertionSuccess();
  }
};

TEST_F(CudaMatmul, EveryWeightTypeMatchesReference) {
  for (GgmlType type : kAllWeightTypes) {
    ASSERT_TRUE(dev->supports(backend::Op::MatMul, type)) << type_name(type);
    for (int64_t cols : matmul_cols_for(type)) {
      const int64_t rows = 37;
      const auto [tw, wf] = random_matrix(type, rows, cols, 7 + static_cast<uint32_t>(cols), odd_offset(type));

      for (int64_t tokens : {1, 2, 3, 5, 8, 9, 33}) {
        const bool batched = tokens > kMatvecMaxTokens;
        const auto x = random_floats(static_cast<size_t>(tokens * cols), 99 + static_cast<uint32_t>(tokens));
        const auto xr = rounded_activations(type, tokens, x, cols);
        const auto y = multiply(tw, x, 4);
        for (int64_t t = 0; t < tokens; ++t) {
          for (int64_t r = 0; r < rows; ++r) {
            double want = 0, magnitude = 0;
            for (int64_t c = 0; c < cols; ++c) {
              float wv = wf[r * cols + c];
              if (batched && quantized(type)) wv = round_f16(wv);  // the f16 tile cuBLAS multiplies
              // Bound on the terms the kernels add: a quantized weight is scale * q - offset,
              // each at most twice the largest weight of its 32.
              double chunk_max = 0;
              for (int64_t i = c / 32 * 32; i < std::min(cols, c / 32 * 32 + 32); ++i) {
                chunk_max = std::max(chunk_max, static_cast<double>(std::fabs(wf[r * cols + i])));
              }
              want += static_cast<double>(wv) * xr[t * cols + c];
              magnitude += (std::fabs(wv) + 2 * chunk_max) * std::fabs(xr[t * cols + c]);
            }
            const double tol = (batched ? 2e-5 : 2e-6) * magnitude + 1e-6;
            ASSERT_NEAR(y[t * rows + r], want, tol)
                << type_name(type) << " cols " << cols << " tokens " << tokens << " token " << t << " row " << r;
          }
        }
      }
    }
  }
}

TEST_F(CudaMatmul, TallMatrixSplitsIntoTilesAndPartialWarps) {
  // More rows than one block of warps covers, and a row count that is not a multiple of it.
  const GgmlType type = GgmlType::Q4_K;
  const int64_t rows = 1001, cols = 512;
  const auto [tw, wf] = random_matrix(type, rows, cols, 5, 0);
  for (int64_t tokens : {1, 16}) {
    const auto x = random_floats(static_cast<size_t>(tokens * cols), 3);
    const auto xr = rounded_activations(type, tokens, x, cols);
    ASSERT_TRUE(near_dot_products(multiply(tw, x), wf, xr, rows, cols, tokens > kMatvecMaxTokens, 1e-4))
        << "tokens " << tokens;
  }
}

// Rows of 2048 and 8192 weights are split across two and four warps: the sum is still the
// row's dot product.
TEST_F(CudaMatmul, LongRowsSplitAcrossWarpsMatchReference) {
  for (GgmlType type : {GgmlType::Q4_0, GgmlType::Q6_K}) {
    for (int64_t cols : {2048, 8192}) {
      const int64_t rows = 6;
      const auto [tw, wf] = random_matrix(type, rows, cols, 21, 2);
      for (int64_t tokens : {1, 3}) {
        const auto x = random_floats(static_cast<size_t>(tokens * cols), 23);
        const auto xr = rounded_activations(type, tokens, x, cols);
        EXPECT_TRUE(near_dot_products(multiply(tw, x), wf, xr, rows, cols, false, 1e-5))
            << type_name(type) << " cols " << cols << " tokens " << tokens;
      }
    }
  }
}

// q/k/v-style calls: runs of same-typed weights go through one launch, each part must give
// exactly what its own matmul gives.
TEST_F(CudaMatmul, SameInputMatchesSeparateMatmulsBitForBit) {
  const int64_t cols = 512;
  const struct {
    GgmlType type;
    int64_t rows;
  } parts[] = {{GgmlType::Q4_K, 37}, {GgmlType::Q4_K, 9}, {GgmlType::Q6_K, 11}, {GgmlType::Q4_K, 1}, {GgmlType::Q4_K, 70}};
  std::vector<backend::Tensor> ws;
  for (size_t i = 0; i < std::size(parts); ++i) {
    const auto w = random_weights(parts[i].type, parts[i].rows, cols, 40 + static_cast<uint32_t>(i));
    ws.push_back(upload(w.data(), w.size(), parts[i].type, cols, parts[i].rows, row_bytes(parts[i].type, cols), 2));
  }
  for (int64_t tokens : {1, 3, 8}) {
    const backend::Tensor tx = upload_f32(random_floats(static_cast<size_t>(tokens * cols), 5), cols);
    std::vector<backend::Tensor> together, alone;
    for (const auto& p : parts) {
      together.push_back(upload_f32(std::vector<float>(static_cast<size_t>(tokens * p.rows), -1.0f), p.rows));
      alone.push_back(upload_f32(std::vector<float>(static_cast<size_t>(tokens * p.rows), -2.0f), p.rows));
    }
    dev->matmul_same_input(ws, tx, together);
    for (size_t i = 0; i < ws.size(); ++i) dev->matmul(ws[i], tx, alone[i]);
    for (size_t i = 0; i < ws.size(); ++i) {
      EXPECT_EQ(download_f32(together[i]), download_f32(alone[i])) << "part " << i << ", " << tokens << " tokens";
    }
  }
}

// rms_norm and swiglu round decode-sized outputs to 8 bits as they write them; the matmul that
// follows must see exactly what rounding the rows in memory gives.
TEST_F(CudaMatmul, FusedActivationRoundingMatchesRoundingTheOutput) {
  const int64_t cols = 256, rows = 19;
  const auto w = random_weights(GgmlType::Q4_0, rows, cols, 3);
  const backend::Tensor tw = upload(w.data(), w.size(), GgmlType::Q4_0, cols, rows, row_bytes(GgmlType::Q4_0, cols), 0);
  const auto norm = random_floats(static_cast<size_t>(cols), 4);
  const backend::Tensor tnorm = upload_f32(norm, cols);
  for (int64_t tokens : {1, 4}) {
    const auto x = random_floats(static_cast<size_t>(tokens * cols), 6, 3.0f);
    const auto u = random_floats(static_cast<size_t>(tokens * cols), 7);
    const backend::Tensor zero = upload_f32(std::vector<float>(static_cast<size_t>(tokens * cols), 0.0f), cols);
    for (bool swiglu : {false, true}) {
      std::vector<float> got[2];
      for (int fused = 0; fused < 2; ++fused) {
        const backend::Tensor tx = upload_f32(x, cols), tu = upload_f32(u, cols);
        const backend::Tensor tout = upload_f32(std::vector<float>(static_cast<size_t>(tokens * cols)), cols);
        const backend::Tensor ty = upload_f32(std::vector<float>(static_cast<size_t>(tokens * rows)), rows);
        if (swiglu) {
          dev->swiglu(tx, tu, tout);
        } else {
          dev->rms_norm(tx, tnorm, 1e-5f, tout);
        }
        if (fused == 0) dev->add(zero, tout);  // the same rows, but no longer known to be rounded
        dev->matmul(tw, tout, ty);
        got[fused] = download_f32(ty);
      }
      EXPECT_EQ(got[0], got[1]) << (swiglu ? "swiglu" : "rms_norm") << ", " << tokens << " tokens";
    }
  }
}

TEST_F(CudaMatmul, GetRowsDequantizesEveryTypeBitForBit) {
  for (GgmlType type : kAllWeightTypes) {
    ASSERT_TRUE(dev->supports(backend::Op::GetRows, type)) << type_name(type);
    for (int64_t cols : matmul_cols_for(type)) {
      const int64_t rows = 9;
      const auto w = random_weights(type, rows, cols, 3);
      const size_t rb = row_bytes(type, cols);
      const backend::Tensor table = upload(w.data(), w.size(), type, cols, rows, rb, odd_offset(type));
      const std::vector<int32_t> ids = {4, 0, 8, 4, 2};
      const backend::Tensor out = upload_f32(std::vector<float>(ids.size() * static_cast<size_t>(cols), -1.0f), cols);
      dev->get_rows(table, ids, out);
      const auto got = download_f32(out);
      std::vector<float> want(static_cast<size_t>(cols));
      for (size_t i = 0; i < ids.size(); ++i) {
        ref::to_f32(type, w.data() + rb * ids[i], want.data(), cols);
        ASSERT_EQ(std::memcmp(&got[i * cols], want.data(), static_cast<size_t>(cols) * sizeof(float)), 0)
            << type_name(type) << " id " << ids[i];
      }
    }
  }
}

TEST_F(CudaMatmul, RejectsOutOfRangeIdsAndForeignBuffersWithAnError) {
  const std::vector<float> table(4 * 8, 1.0f);
  const backend::Tensor t = upload_f32(table, 8);
  const backend::Tensor out = upload_f32(std::vector<float>(8), 8);
  const std::vector<int32_t> ids = {4};
  EXPECT_THROW(dev->get_rows(t, ids, out), Error);
  auto cpu = backend::create_device("cpu", {1});
  auto host_buffer = cpu->alloc(8 * sizeof(float));
  backend::Tensor host = out;
  host.buffer = host_buffer.get();
  const std::vector<int32_t> ok = {1};
  EXPECT_THROW(dev->get_rows(t, ok, host), Error);
}

}  // namespace
}  // namespace anychip::testing::cudatest
