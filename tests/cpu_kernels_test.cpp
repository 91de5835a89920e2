// Every fast matmul kernel of the block-32 family (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) and the float
// family (F32, F16, BF16), on every instruction set this CPU can run, against the reference ops:
// (a) activation quantization gives exactly the values ref::round_activations rounds to (same
//     q, d and, for Q8_1, the same stored block sum s), byte-identical across ISAs;
// (b) gemm equals ref::matvec within 1e-5 of sum|w*x| for odd shapes, partial row ranges and
//     several token counts, and writes nothing outside its row range.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/kernels/kernel_families.h"
#include "backend/cpu/kernels/matmul_kernels.h"
#include "support/usable_isa.h"
#include "backend/cpu/reference_ops.h"
#include "quant/blocks.h"
#include "quant/quant.h"

namespace anychip::cpu {
namespace {

using testing::usable_here;

std::vector<Isa> isas_here() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Avx512Vnni, Isa::Neon}) {
    if (usable_here(isa)) out.push_back(isa);
  }
  return out;
}

bool is_block32(GgmlType t) {
  return t == GgmlType::Q4_0 || t == GgmlType::Q4_1 || t == GgmlType::Q5_0 || t == GgmlType::Q5_1 ||
         t == GgmlType::Q8_0;
}

// Activations with the features that matter to the rounding: mixed magnitudes, exact ties in
// x * 127/amax are unlikely but large outliers, an all-zero block and negative runs are not.
std::vector<float> random_activations(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) v = normal(rng);
  for (int64_t i = 0; i < n; i += 97) x[static_cast<size_t>(i)] *= 40.0f;  // outliers
  if (n >= 64) std::fill(x.begin() + 32, x.begin() + 64, 0.0f);          // one all-zero block
  if (n >= 128) {
    for (int i = 96; i < 128; ++i) x[static_cast<size_t>(i)] = -std::fabs(x[static_cast<size_t>(i)]) * 1e-3f;
  }
  return x;
}

// A rows x n weight matrix of `type` (rows of very different scales, one zero row).
std::vector<uint8_t> random_weights(GgmlType type, int64_t rows, int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const size_t rb = row_bytes(type, n);
  std::vector<uint8_t> w(rb * static_cast<size_t>(rows));
  std::vector<float> row(static_cast<size_t>(n));
  for (int64_t r = 0; r < rows; ++r) {
    const float scale = r == 2 ? 0.0f : std::ldexp(1.0f, static_cast<int>(r % 7) - 4);
    const float shift = (r % 3 == 1) ? 0.3f * scale : 0.0f;  // asymmetric rows for the _1 types
    for (auto& v : row) v = normal(rng) * scale + shift;
    quant::quantize_row(type, row.data(), w.data() + rb * static_cast<size_t>(r), n);
  }
  return w;
}

std::string label(const MatmulKernels& k) {
  return std::string(type_traits(k.weight_type).name) + "/" + isa_name(k.isa);
}

// Every kernel the block-32 and float families register that this CPU can run.
std::vector<const MatmulKernels*> kernels_here(GgmlType type) {
  std::vector<const MatmulKernels*> out;
  for (auto family : {block32_kernels(), float_kernels()}) {
    for (const MatmulKernels& k : family) {
      if (k.weight_type == type && usable_here(k.isa)) out.push_back(&k);
    }
  }
  return out;
}

class CpuKernels : public ::testing::TestWithParam<GgmlType> {};

TEST_P(CpuKernels, RegistryOffersEveryIsa) {
  const GgmlType type = GetParam();
  for (Isa isa : isas_here()) {
    const MatmulKernels* k = find_matmul_kernels(type, isa);
    ASSERT_NE(k, nullptr) << type_traits(type).name << " " << isa_name(isa);
    EXPECT_EQ(k->weight_type, type);
    EXPECT_EQ(k->activation_type, ref::activation_type_for(type));
    EXPECT_TRUE(usable_here(k->isa));
    EXPECT_LE(static_cast<int>(k->isa), static_cast<int>(isa));
#if defined(__x86_64__)
    // SIMD versions exist for every type: AVX2 and up never fall back to scalar.
    if (isa != Isa::Scalar) {
      EXPECT_GE(static_cast<int>(k->isa), static_cast<int>(Isa::Avx2)) << label(*k);
    }
    if (isa == Isa::Avx512Vnni) {
      EXPECT_EQ(k->isa, Isa::Avx512Vnni) << label(*k);
    }
#endif
  }
}

TEST_P(CpuKernels, ActivationQuantizationMatchesReference) {
  const GgmlType type = GetParam();
  const GgmlType act = ref::activation_type_for(type);
  std::vector<int64_t> sizes = {32, 256, 4096, 11008};
  if (!is_block32(type)) sizes.insert(sizes.end(), {1, 7, 77, 1000});
  for (int64_t n : sizes) {
    std::vector<float> x = random_activations(n, static_cast<uint32_t>(n));
    if (!is_block32(type) && n >= 8) {
      // Halfway cases and values beyond the f16 range for the half formats.
      x[0] = 1.0f + std::ldexp(1.0f, -11);  // f16 tie: rounds to even (1.0)
      x[1] = 1.0f + 3 * std::ldexp(1.0f, -11);
      x[2] = 70000.0f;
      x[3] = 1.0f + std::ldexp(1.0f, -8);  // bf16 tie
      x[4] = 3e-7f;                          // f16 subnormal
    }
    std::vector<float> expected(static_cast<size_t>(n)), got(static_cast<size_t>(n));
    std::vector<float> corrections(static_cast<size_t>(n / 32 + 1));
    ref::round_activations(act, x.data(), expected.data(), n, corrections.data());
    std::vector<uint8_t> first;
    for (const MatmulKernels* k : kernels_here(type)) {
      SCOPED_TRACE(label(*k) + " n=" + std::to_string(n));
      std::vector<uint8_t> packed(row_bytes(act, n), 0xcd);
      k->quantize(x.data(), packed.data(), n);
      quant::dequantize_row(act, packed.data(), got.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        // Exact: bit for bit for the half formats; by value for the 8-bit blocks, where the
        // reference's q * d can be -0 but a stored q of 0 reads back as +0.
        const bool same = is_block32(type) ? got[i] == expected[i] : std::memcmp(&got[i], &expected[i], 4) == 0;
        ASSERT_TRUE(same) << "element " << i << ": " << got[i] << " vs " << expected[i];
      }
      if (act == GgmlType::Q8_1) {
        const auto* blocks = reinterpret_cast<const quant::BlockQ8_1*>(packed.data());
        for (int64_t b = 0; b < n / 32; ++b) {
          int sum = 0;
          for (int8_t q : blocks[b].qs) sum += q;
          const float d16 = quant::fp16_to_fp32(blocks[b].d);
          const float correction = quant::fp16_to_fp32(blocks[b].s) - d16 * static_cast<float>(sum);
          ASSERT_EQ(correction, corrections[static_cast<size_t>(b)]) << "block sum s of block " << b;
        }
      }
      if (first.empty()) {
        first = packed;
      } else {
        ASSERT_EQ(packed, first) << "quantized bytes differ between ISAs";
      }
    }
  }
}

struct Shape {
  int64_t n, rows;
};

TEST_P(CpuKernels, GemmMatchesReference) {
  const GgmlType type = GetParam();
  const GgmlType act = ref::activation_type_for(type);
  std::vector<Shape> shapes = {{256, 37}, {4096, 21}, {11008, 5}};
  if (!is_block32(type)) shapes.insert(shapes.end(), {{77, 9}, {1000, 18}, {8, 3}});
  const int64_t token_counts[] = {1, 3, 8, 12, 33};
  for (const Shape& s : shapes) {
    const size_t rb = row_bytes(type, s.n);
    const std::vector<uint8_t> w = random_weights(type, s.rows, s.n, static_cast<uint32_t>(s.n * 31 + s.rows));
    // Row ranges as the device hands them to threads: whole, single rows, not multiples of 16.
    const std::pair<int64_t, int64_t> ranges[] = {
        {0, s.rows}, {0, 1}, {s.rows / 3, s.rows - 2}, {s.rows - 1, s.rows}, {s.rows / 2, s.rows}};
    for (int64_t n_tokens : token_counts) {
      // Padded strides catch kernels that assume rows are packed.
      const size_t x_stride = row_bytes(act, s.n) + 64, y_stride = static_cast<size_t>(s.rows + 3);
      std::vector<std::vector<float>> xs;
      std::vector<float> expected(y_stride * static_cast<size_t>(n_tokens)), scale(expected.size());
      std::vector<float> w_f32(static_cast<size_t>(s.n)), x_rounded(static_cast<size_t>(s.n)),
          corrections(static_cast<size_t>(s.n / 32 + 1));
      for (int64_t t = 0; t < n_tokens; ++t) {
        xs.push_back(random_activations(s.n, static_cast<uint32_t>(1000 * t + s.n)));
        ref::matvec(type, w.data(), rb, s.n, xs.back().data(), &expected[t * y_stride], 0, s.rows);
        ref::round_activations(act, xs.back().data(), x_rounded.data(), s.n, corrections.data());
        for (int64_t r = 0; r < s.rows; ++r) {
          ref::to_f32(type, w.data() + rb * static_cast<size_t>(r), w_f32.data(), s.n);
          double sum_abs = 0;
          for (int64_t i = 0; i < s.n; ++i) sum_abs += std::fabs(static_cast<double>(w_f32[i]) * x_rounded[i]);
          scale[t * y_stride + r] = static_cast<float>(sum_abs);
        }
      }
      for (const MatmulKernels* k : kernels_here(type)) {
        std::vector<uint8_t> x(x_stride * static_cast<size_t>(n_tokens), 0xcd);
        for (int64_t t = 0; t < n_tokens; ++t) k->quantize(xs[t].data(), x.data() + t * x_stride, s.n);
        for (auto [begin, end] : ranges) {
          SCOPED_TRACE(label(*k) + " n=" + std::to_string(s.n) + " rows=[" + std::to_string(begin) + "," +
                       std::to_string(end) + ") of " + std::to_string(s.rows) + " tokens=" + std::to_string(n_tokens));
          std::vector<float> y(expected.size(), NAN);
          k->gemm(w.data(), rb, s.n, x.data(), x_stride, n_tokens, y.data(), y_stride, begin, end);
          for (int64_t t = 0; t < n_tokens; ++t) {
            for (int64_t r = 0; r < static_cast<int64_t>(y_stride); ++r) {
              const size_t i = t * y_stride + static_cast<size_t>(r);
              if (r < begin || r >= end) {
                ASSERT_TRUE(std::isnan(y[i])) << "wrote outside its rows: token " << t << " row " << r;
                continue;
              }
              ASSERT_NEAR(y[i], expected[i], 1e-5 * scale[i] + 1e-30) << "token " << t << " row " << r;
            }
          }
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, CpuKernels,
                         ::testing::Values(GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,
                                           GgmlType::Q8_0, GgmlType::F32, GgmlType::F16, GgmlType::BF16),
                         [](const ::testing::TestParamInfo<GgmlType>& info) {
                           return std::string(type_traits(info.param).name);
                         });

}  // namespace
}  // namespace anychip::cpu
