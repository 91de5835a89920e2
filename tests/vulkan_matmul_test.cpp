// The Vulkan matmul and get_rows shaders for every weight type against the CPU reference
// (ref::to_f32 dequantization, dot products in double), decode shapes (1..8 tokens: one dispatch
// with that token count, activations both 16-byte aligned and not) and prefill (19 tokens: two
// z-groups of 8 plus a dispatch for the other 3), rows starting at unaligned byte offsets, in
// every feature mode (native and forced fallbacks).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "backend/cpu/reference_ops.h"
#include "quant/quant.h"
#include "support/vulkan_fixture.h"

namespace anychip::testing {
namespace {


// What the shader is specified to compute: dequantized weights times activations, the
// activations rounded to f16/bf16 for half weights as the CPU backend does.
float expected_dot(GgmlType type, const float* w_row, const float* x, int64_t cols, double* magnitude) {
  double acc = 0, mag = 0;
  for (int64_t i = 0; i < cols; ++i) {
    float xi = x[i];
    if (type == GgmlType::F16) xi = quant::fp16_to_fp32(quant::fp32_to_fp16(xi));
    if (type == GgmlType::BF16) xi = quant::bf16_to_fp32(quant::fp32_to_bf16(xi));
    acc += static_cast<double>(w_row[i]) * xi;
    mag += std::fabs(static_cast<double>(w_row[i]) * xi);
  }
  *magnitude = mag;
  return static_cast<float>(acc);
}

class VulkanMatmul : public VulkanTest {};

TEST_P(VulkanMatmul, EveryWeightTypeMatchesReference) {
  for (GgmlType type : kAllWeightTypes) {
    ASSERT_TRUE(dev->supports(backend::Op::MatMul, type)) << type_name(type);
    for (int64_t cols : matmul_cols_for(type)) {
      const int64_t rows = 37;
      const auto w = random_weights(type, rows, cols, 7 + static_cast<uint32_t>(cols));
      const size_t rb = row_bytes(type, cols);
      const backend::Tensor tw = upload(w.data(), w.size(), type, cols, rows, rb, odd_offset(type));
      std::vector<float> wf(static_cast<size_t>(rows * cols));
      for (int64_t r = 0; r < rows; ++r) ref::to_f32(type, w.data() + rb * r, wf.data() + r * cols, cols);

      for (int64_t tokens : {1, 2, 3, 4, 5, 6, 7, 8, 19}) {
        const auto x = random_floats(static_cast<size_t>(tokens * cols), 99 + static_cast<uint32_t>(tokens));
        // Odd token counts get vec4-aligned activations (matvec.comp's vector loads), even ones not.
        const backend::Tensor tx = upload_f32(x, cols, tokens % 2 == 1 ? 0 : 4);
        const backend::Tensor ty = upload_f32(std::vector<float>(static_cast<size_t>(tokens * rows), -1.0f), rows);
        dev->matmul(tw, tx, ty);
        const auto y = download_f32(ty);
        for (int64_t t = 0; t < tokens; ++t) {
          for (int64_t r = 0; r < rows; ++r) {
            double mag = 0;
            const float want = expected_dot(type, &wf[r * cols], &x[t * cols], cols, &mag);
            ASSERT_NEAR(y[t * rows + r], want, 2e-6 * mag + 1e-6)
                << type_name(type) << " cols " << cols << " tokens " << tokens << " token " << t << " row " << r;
          }
        }
      }
    }
  }
}

TEST_P(VulkanMatmul, GetRowsDequantizesEveryType) {
  std::vector<GgmlType> types(std::begin(kAllWeightTypes), std::end(kAllWeightTypes));
  for (GgmlType type : types) {
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
        for (int64_t c = 0; c < cols; ++c) {
          ASSERT_NEAR(got[i * cols + c], want[c], 1e-6f * std::fabs(want[c]) + 1e-7f)
              << type_name(type) << " id " << ids[i] << " col " << c;
        }
      }
    }
  }
}

TEST_P(VulkanMatmul, RejectsOutOfRangeIdsWithAnError) {
  const std::vector<float> table(4 * 8, 1.0f);
  const backend::Tensor t = upload_f32(table, 8);
  const backend::Tensor out = upload_f32(std::vector<float>(8), 8);
  const std::vector<int32_t> ids = {4};
  EXPECT_THROW(dev->get_rows(t, ids, out), Error);
}

INSTANTIATE_TEST_SUITE_P(Modes, VulkanMatmul, ::testing::ValuesIn(kVulkanModes), mode_name);

}  // namespace
}  // namespace anychip::testing
