// The CUDA kernels' per-type block arithmetic (backend/cuda/kernels/block_math.h), compiled here
// as host code and checked against the CPU reference: half/bf16 conversions bit for bit, every
// weight type's element dequantization bit for bit, the integer chunk form (scale * q - offset)
// and its dp4a dot products, and the 8-bit activation rounding. These run on every machine, GPU
// or not: they are what verifies the kernels' bit manipulation where no kernel can run.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "backend/cpu/reference_ops.h"
#include "backend/cuda/kernels/block_math.h"
#include "quant/kscales.h"
#include "quant/quant.h"

namespace anychip::testing {
namespace {

using cuda::blocks::Chunk;
using cuda::blocks::XChunk;

const GgmlType kWeightTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0, GgmlType::Q4_1,
                                 GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q2_K, GgmlType::Q3_K,
                                 GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};

bool is_quantized(GgmlType t) { return type_traits(t).block_size > 1; }

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

float element(GgmlType t, const uint8_t* row, int64_t e) {
  using namespace cuda::blocks;
  switch (t) {
    case GgmlType::F32: return row_element<GgmlType::F32>(row, e);
    case GgmlType::F16: return row_element<GgmlType::F16>(row, e);
    case GgmlType::BF16: return row_element<GgmlType::BF16>(row, e);
    case GgmlType::Q4_0: return row_element<GgmlType::Q4_0>(row, e);
    case GgmlType::Q4_1: return row_element<GgmlType::Q4_1>(row, e);
    case GgmlType::Q5_0: return row_element<GgmlType::Q5_0>(row, e);
    case GgmlType::Q5_1: return row_element<GgmlType::Q5_1>(row, e);
    case GgmlType::Q8_0: return row_element<GgmlType::Q8_0>(row, e);
    case GgmlType::Q2_K: return row_element<GgmlType::Q2_K>(row, e);
    case GgmlType::Q3_K: return row_element<GgmlType::Q3_K>(row, e);
    case GgmlType::Q4_K: return row_element<GgmlType::Q4_K>(row, e);
    case GgmlType::Q5_K: return row_element<GgmlType::Q5_K>(row, e);
    case GgmlType::Q6_K: return row_element<GgmlType::Q6_K>(row, e);
    default: ADD_FAILURE() << "no element() for " << type_name(t); return 0;
  }
}

Chunk unpack(GgmlType t, const uint8_t* row, int64_t c) {
  using namespace cuda::blocks;
  Chunk out{};
  switch (t) {
    case GgmlType::Q4_0: unpack_chunk<GgmlType::Q4_0>(row, c, out); break;
    case GgmlType::Q4_1: unpack_chunk<GgmlType::Q4_1>(row, c, out); break;
    case GgmlType::Q5_0: unpack_chunk<GgmlType::Q5_0>(row, c, out); break;
    case GgmlType::Q5_1: unpack_chunk<GgmlType::Q5_1>(row, c, out); break;
    case GgmlType::Q8_0: unpack_chunk<GgmlType::Q8_0>(row, c, out); break;
    case GgmlType::Q2_K: unpack_chunk<GgmlType::Q2_K>(row, c, out); break;
    case GgmlType::Q3_K: unpack_chunk<GgmlType::Q3_K>(row, c, out); break;
    case GgmlType::Q4_K: unpack_chunk<GgmlType::Q4_K>(row, c, out); break;
    case GgmlType::Q5_K: unpack_chunk<GgmlType::Q5_K>(row, c, out); break;
    case GgmlType::Q6_K: unpack_chunk<GgmlType::Q6_K>(row, c, out); break;
    default: ADD_FAILURE() << "no unpack() for " << type_name(t);
  }
  return out;
}

// Byte offsets of the f16 scale fields in each block, kept finite in the random-byte blocks.
std::vector<int> half_fields(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_0: case GgmlType::Q5_0: case GgmlType::Q8_0: return {0};
    case GgmlType::Q4_1: case GgmlType::Q5_1: case GgmlType::Q4_K: case GgmlType::Q5_K: return {0, 2};
    case GgmlType::Q2_K: return {80, 82};
    case GgmlType::Q3_K: return {108};
    case GgmlType::Q6_K: return {208};
    default: return {};
  }
}

// A row of `cols` weights: quantized from Gaussian floats (realistic blocks), or random bytes
// with finite scales (every bit pattern of the quants, scales and mins).
std::vector<uint8_t> make_row(GgmlType t, int64_t cols, uint32_t seed, bool random_bytes) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> row(row_bytes(t, cols));
  if (!random_bytes) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> f(static_cast<size_t>(cols));
    for (auto& v : f) v = normal(rng) + (seed % 3 == 1 ? 0.5f : 0.0f);
    quant::quantize_row(t, f.data(), row.data(), cols);
    return row;
  }
  for (auto& b : row) b = static_cast<uint8_t>(rng());
  const size_t block_bytes = type_traits(t).block_bytes;
  std::uniform_real_distribution<float> scale(-2.0f, 2.0f);
  for (size_t b = 0; b < row.size(); b += block_bytes) {
    for (int off : half_fields(t)) {
      const uint16_t h = quant::fp32_to_fp16(scale(rng));
      std::memcpy(&row[b + static_cast<size_t>(off)], &h, 2);
    }
  }
  if (!is_quantized(t)) {  // finite floats only: NaN payloads are not what this test is about
    std::vector<float> f(static_cast<size_t>(cols));
    for (auto& v : f) v = scale(rng);
    quant::quantize_row(t, f.data(), row.data(), cols);
  }
  return row;
}

TEST(CudaBlockMath, HalfToFloatMatchesReferenceForEveryHalf) {
  for (uint32_t h = 0; h < 65536; ++h) {
    ASSERT_EQ(bits(cuda::hd::half_to_float(static_cast<uint16_t>(h))), bits(quant::fp16_to_fp32(static_cast<uint16_t>(h))))
        << "half 0x" << std::hex << h;
  }
}

TEST(CudaBlockMath, FloatToHalfAndBf16MatchReference) {
  std::mt19937 rng(5);
  std::vector<float> values = {0.0f, -0.0f, 65504.0f, 65519.0f, 65520.0f, 1e6f, 6.1e-5f, 3.0e-7f, 5.96e-8f, 2.9e-8f,
                               1.0f + 1.0f / 2048, 1.0f + 3.0f / 2048, std::numeric_limits<float>::infinity(),
                               -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(),
                               std::numeric_limits<float>::denorm_min(), 1e-30f};
  for (int i = 0; i < 1 << 20; ++i) {
    const uint32_t u = static_cast<uint32_t>(rng());
    float f;
    std::memcpy(&f, &u, sizeof f);
    values.push_back(f);
    values.push_back(std::ldexp(static_cast<float>(u & 0xFFFFFF), -static_cast<int>(u >> 27) - 24));  // near f16 range
  }
  for (float f : values) {
    ASSERT_EQ(cuda::hd::float_to_half(f), quant::fp32_to_fp16(f)) << "float bits 0x" << std::hex << bits(f);
    ASSERT_EQ(cuda::hd::float_to_bf16(f), quant::fp32_to_bf16(f)) << "float bits 0x" << std::hex << bits(f);
  }
  for (uint32_t h = 0; h < 65536; ++h) {
    ASSERT_EQ(bits(cuda::hd::bf16_to_float(static_cast<uint16_t>(h))), bits(quant::bf16_to_fp32(static_cast<uint16_t>(h))));
  }
}

TEST(CudaBlockMath, DotProductOfFourBytes) {
  std::mt19937 rng(9);
  for (int i = 0; i < 10000; ++i) {
    const auto a = static_cast<int32_t>(rng()), b = static_cast<int32_t>(rng());
    const int c = static_cast<int>(rng() % 1000) - 500;
    int want = c;
    for (int k = 0; k < 4; ++k) want += static_cast<int8_t>(a >> (8 * k)) * static_cast<int8_t>(b >> (8 * k));
    ASSERT_EQ(cuda::hd::dp4a(a, b, c), want);
  }
}

TEST(CudaBlockMath, KQuantScalesMatchTheSharedUnpackers) {
  std::mt19937 rng(3);
  for (int n = 0; n < 2000; ++n) {
    uint8_t q[12];
    for (auto& b : q) b = static_cast<uint8_t>(rng());
    for (int j = 0; j < 8; ++j) {
      uint8_t want_sc, want_m;
      quant::unpack_scale_min_k4(j, q, want_sc, want_m);
      int sc, m;
      cuda::blocks::scale_min_k4(j, q, sc, m);
      ASSERT_EQ(sc, want_sc);
      ASSERT_EQ(m, want_m);
    }
    for (int j = 0; j < 16; ++j) ASSERT_EQ(cuda::blocks::scale_q3_k(j, q), quant::unpack_scale_q3_k(j, q));
  }
}

TEST(CudaBlockMath, ElementsMatchReferenceDequantizationBitForBit) {
  for (GgmlType t : kWeightTypes) {
    const int64_t cols = is_quantized(t) ? 1024 : 100;
    for (uint32_t seed = 1; seed <= 6; ++seed) {
      const bool random_bytes = seed > 3;
      const auto row = make_row(t, cols, seed, random_bytes);
      std::vector<float> want(static_cast<size_t>(cols));
      quant::dequantize_row(t, row.data(), want.data(), cols);
      for (int64_t e = 0; e < cols; ++e) {
        ASSERT_EQ(bits(element(t, row.data(), e)), bits(want[e]))
            << type_name(t) << " element " << e << " seed " << seed << ": " << element(t, row.data(), e) << " vs " << want[e];
      }
    }
  }
}

TEST(CudaBlockMath, ChunksReproduceTheWeights) {
  for (GgmlType t : kWeightTypes) {
    if (!is_quantized(t)) continue;
    const int64_t cols = 1024;
    for (uint32_t seed = 1; seed <= 6; ++seed) {
      const auto row = make_row(t, cols, seed, seed > 3);
      std::vector<float> want(static_cast<size_t>(cols));
      quant::dequantize_row(t, row.data(), want.data(), cols);
      for (int64_t c = 0; c < cols / 32; ++c) {
        const Chunk ch = unpack(t, row.data(), c);
        for (int i = 0; i < 32; ++i) {
          const int8_t q = static_cast<int8_t>(static_cast<uint32_t>(ch.q[i / 4]) >> (8 * (i % 4)));
          if (t != GgmlType::Q8_0) {  // the others' quants are unsigned and must read the same as signed bytes
            ASSERT_GE(q, 0) << type_name(t);
            ASSERT_LE(q, 63) << type_name(t);
          }
          // scale * q - offset rounds differently from the reference's operation order, by at
          // most an ulp of each term.
          const float tol = 2e-7f * (std::fabs(ch.scale[i / 16] * q) + std::fabs(ch.offset[i / 16])) + 1e-30f;
          ASSERT_NEAR(cuda::blocks::chunk_value(ch, i), want[c * 32 + i], tol)
              << type_name(t) << " chunk " << c << " weight " << i << " seed " << seed;
        }
      }
    }
  }
}

TEST(CudaBlockMath, ActivationRoundingMatchesReferenceQ8) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  for (int n = 0; n < 500; ++n) {
    float x[32];
    for (auto& v : x) v = normal(rng);
    if (n == 0) std::fill(std::begin(x), std::end(x), 0.0f);
    if (n == 1) x[7] = 1e4f;
    if (n == 2) for (int i = 0; i < 32; ++i) x[i] = static_cast<float>(i - 16) * 0.5f;  // exact halves: ties to even
    float want[32];
    ref::round_activations(GgmlType::Q8_0, x, want, 32, nullptr);
    int8_t q[32];
    XChunk meta;
    cuda::blocks::quantize_chunk(x, q, meta);
    int sum[2] = {0, 0};
    for (int i = 0; i < 32; ++i) {
      // Equal values (the reference keeps the sign of a zero quant, an int cannot).
      ASSERT_EQ(static_cast<float>(q[i]) * meta.d, want[i]) << "case " << n << " element " << i;
      sum[i / 16] += q[i];
    }
    EXPECT_EQ(meta.sum[0], static_cast<float>(sum[0]));
    EXPECT_EQ(meta.sum[1], static_cast<float>(sum[1]));
  }
}

template <bool kOffset>
float dot(const Chunk& w, const int8_t* q, const XChunk& x) {
  int32_t packed[8];
  std::memcpy(packed, q, sizeof packed);
  return cuda::blocks::dot_chunk<kOffset>(w, packed, x);
}

TEST(CudaBlockMath, ChunkDotProductsMatchDequantizedWeightsTimesRoundedActivations) {
  std::mt19937 rng(13);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  for (GgmlType t : kWeightTypes) {
    if (!is_quantized(t)) continue;
    const int64_t cols = 512;
    for (uint32_t seed = 1; seed <= 6; ++seed) {
      const auto row = make_row(t, cols, seed + 40, seed > 3);
      std::vector<float> w(static_cast<size_t>(cols));
      quant::dequantize_row(t, row.data(), w.data(), cols);
      for (int64_t c = 0; c < cols / 32; ++c) {
        float x[32];
        for (auto& v : x) v = normal(rng);
        int8_t q[32];
        XChunk meta;
        cuda::blocks::quantize_chunk(x, q, meta);
        const Chunk ch = unpack(t, row.data(), c);
        double want = 0, magnitude = 0;
        for (int i = 0; i < 32; ++i) {
          const double xi = static_cast<double>(q[i]) * meta.d;
          want += static_cast<double>(w[c * 32 + i]) * xi;
          magnitude += (std::fabs(ch.scale[i / 16] * 64.0) + std::fabs(ch.offset[i / 16])) * std::fabs(xi);
        }
        const float got = t == GgmlType::Q8_0 ? dot<false>(ch, q, meta) : dot<true>(ch, q, meta);
        ASSERT_NEAR(got, want, 1e-6 * magnitude + 1e-30) << type_name(t) << " chunk " << c << " seed " << seed;
      }
    }
  }
}

}  // namespace
}  // namespace anychip::testing
