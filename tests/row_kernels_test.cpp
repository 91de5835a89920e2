// The row kernels (row_kernels.h) of every instruction set this CPU can run, against the portable
// reference: swiglu within a few ulp of ref::swiglu (its exp is a polynomial, not libm's) over
// ordinary values, values where exp overflows or underflows, and every tail length; to_f16 bit
// for bit quant::fp32_to_fp16 over normals, subnormals, ties, overflow and infinities; rms_norm
// within a few ulp of ref::rms_norm over every tail length; argmax against a plain scan, with
// ties, NaNs and -inf.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "backend/cpu/kernels/row_kernels.h"
#include "backend/cpu/reference_ops.h"
#include "quant/quant.h"
#include "support/usable_isa.h"

namespace anychip::cpu {
namespace {

std::vector<const RowKernels*> row_kernels_here() {
  std::vector<const RowKernels*> out;
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon}) {
    if (testing::usable_here(isa)) out.push_back(&find_row_kernels(isa));
  }
  return out;
}

std::vector<float> test_values(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 4.0f);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  // Where exp(-g) overflows, underflows or is exactly 1.
  const float special[] = {0.0f, -0.0f, 1e-30f, -1e-30f, 20.0f, -20.0f, 87.5f, -87.5f, 88.8f, -88.8f,
                           100.0f, -100.0f, 1e4f, -1e4f, 1e-8f, -1e-8f};
  for (size_t i = 0; i < std::size(special) && i < n; ++i) v[i * 3 % n] = special[i];
  return v;
}

TEST(RowKernels, SwigluMatchesReferenceWithinFewUlp) {
  for (const RowKernels* k : row_kernels_here()) {
    for (size_t n : {1u, 7u, 15u, 16u, 17u, 33u, 100u, 4864u}) {
      const std::vector<float> gate = test_values(n, 1), up = test_values(n, 2);
      std::vector<float> want(n), got(n, std::nanf(""));
      ref::swiglu(gate.data(), up.data(), want.data(), static_cast<int64_t>(n));
      k->swiglu(gate.data(), up.data(), got.data(), static_cast<int64_t>(n));
      for (size_t i = 0; i < n; ++i) {
        ASSERT_NEAR(got[i], want[i], 1e-6f * std::fabs(want[i]) + 1e-30f)
            << isa_name(k->isa) << " n=" << n << " gate=" << gate[i] << " up=" << up[i];
      }
    }
  }
}

TEST(RowKernels, SwigluMayWriteOverItsGateInput) {
  for (const RowKernels* k : row_kernels_here()) {
    std::vector<float> gate = test_values(37, 3);
    const std::vector<float> up = test_values(37, 4);
    std::vector<float> want(gate.size());
    ref::swiglu(gate.data(), up.data(), want.data(), 37);
    k->swiglu(gate.data(), up.data(), gate.data(), 37);
    for (size_t i = 0; i < gate.size(); ++i) ASSERT_NEAR(gate[i], want[i], 1e-6f * std::fabs(want[i]) + 1e-30f) << i;
  }
}

TEST(RowKernels, ToF16EqualsPortableConversionBitForBit) {
  std::vector<float> x;
  std::mt19937 rng(5);
  // Every exponent from deep subnormal-half territory to overflow, random mantissas.
  for (int e = -30; e <= 17; ++e) {
    for (int i = 0; i < 40; ++i) x.push_back(std::ldexp(1.0f + static_cast<float>(rng() % 8192) / 8192.0f, e) * (i % 2 ? -1 : 1));
  }
  // Ties between halves (the dropped 13 bits exactly 0x1000), and the edges.
  for (uint32_t h : {0x3c00u, 0x3c01u, 0x0001u, 0x03ffu, 0x7bffu}) {
    const float lo = quant::fp16_to_fp32(static_cast<uint16_t>(h)), hi = quant::fp16_to_fp32(static_cast<uint16_t>(h + 1));
    x.push_back((lo + hi) / 2);
  }
  for (float f : {65504.0f, 65519.0f, 65520.0f, 1e9f, std::numeric_limits<float>::infinity(),
                  -std::numeric_limits<float>::infinity(), 0.0f, -0.0f, 5.96e-8f, 2.98e-8f, 2.99e-8f}) {
    x.push_back(f);
  }
  for (const RowKernels* k : row_kernels_here()) {
    for (size_t n : {x.size(), x.size() - 1, size_t{5}}) {
      std::vector<uint16_t> got(n, 0xffff);
      k->to_f16(x.data(), got.data(), static_cast<int64_t>(n));
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(got[i], quant::fp32_to_fp16(x[i])) << isa_name(k->isa) << " x=" << x[i];
    }
  }
}

TEST(RowKernels, ToF16KeepsNaNsNaN) {
  const float x[3] = {std::nanf(""), -std::nanf(""), 1.0f};
  for (const RowKernels* k : row_kernels_here()) {
    uint16_t h[3];
    k->to_f16(x, h, 3);
    EXPECT_TRUE(std::isnan(quant::fp16_to_fp32(h[0]))) << isa_name(k->isa);
    EXPECT_TRUE(std::isnan(quant::fp16_to_fp32(h[1]))) << isa_name(k->isa);
    EXPECT_EQ(h[2], 0x3c00u);
  }
}

TEST(RowKernels, RmsNormMatchesReferenceWithinFewUlp) {
  for (const RowKernels* k : row_kernels_here()) {
    for (size_t n : {1u, 7u, 15u, 16u, 17u, 31u, 32u, 33u, 48u, 100u, 2048u, 2049u}) {
      const std::vector<float> x = test_values(n, 6), w = test_values(n, 7);
      std::vector<float> want(n), got(n, std::nanf("")), in_place = x;
      ref::rms_norm(x.data(), w.data(), 1e-5f, want.data(), static_cast<int64_t>(n));
      k->rms_norm(x.data(), w.data(), 1e-5f, got.data(), static_cast<int64_t>(n));
      k->rms_norm(in_place.data(), w.data(), 1e-5f, in_place.data(), static_cast<int64_t>(n));
      for (size_t i = 0; i < n; ++i) {
        ASSERT_NEAR(got[i], want[i], 4e-7f * std::fabs(want[i])) << isa_name(k->isa) << " n=" << n << " i=" << i;
        ASSERT_EQ(in_place[i], got[i]) << isa_name(k->isa) << " n=" << n << " i=" << i;
      }
    }
  }
}

// The first largest value, NaNs never counted; the first -inf when nothing is larger; else 0.
int64_t plain_argmax(const std::vector<float>& x) {
  int64_t best = -1;
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isnan(x[i]) && (best < 0 || x[i] > x[static_cast<size_t>(best)])) best = static_cast<int64_t>(i);
  }
  return best < 0 ? 0 : best;
}

TEST(RowKernels, ArgmaxFindsTheFirstLargestSkippingNaNs) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::nanf("");
  std::vector<std::vector<float>> cases;
  for (size_t n : {1u, 2u, 15u, 16u, 17u, 63u, 64u, 65u, 100u, 1000u, 128256u}) {
    std::vector<float> x = test_values(n, static_cast<uint32_t>(n));
    cases.push_back(x);
    // A tie for the largest, the earlier copy late in the row and the later in the tail.
    x[n * 2 / 3] = x[n - 1] = 1e6f;
    cases.push_back(x);
    // NaNs scattered, one of them first.
    for (size_t i = 0; i < n; i += 5) x[i] = nan;
    cases.push_back(x);
    cases.push_back(std::vector<float>(n, -inf));
    cases.push_back(std::vector<float>(n, nan));
    std::vector<float> mixed(n, nan);
    mixed[n / 2] = -inf;
    cases.push_back(mixed);
    std::vector<float> top_last(n, -1.0f);
    top_last[n - 1] = inf;
    cases.push_back(top_last);
  }
  for (const RowKernels* k : row_kernels_here()) {
    for (size_t c = 0; c < cases.size(); ++c) {
      const std::vector<float>& x = cases[c];
      ASSERT_EQ(k->argmax(x.data(), static_cast<int64_t>(x.size())), plain_argmax(x))
          << isa_name(k->isa) << " case " << c << " n=" << x.size();
    }
  }
}

}  // namespace
}  // namespace anychip::cpu
