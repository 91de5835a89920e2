// Arm NEON kernels for float weights, aarch64 only: F32 x f32, F16 x f16 and BF16 x bf16, as
// llama.cpp pairs them. Both operands are widened to f32 (FCVTL for f16, a 16-bit shift for
// bf16) and the products summed in f32 with FMLA in several independent accumulators; ARMv8.0
// has no f16 arithmetic, and accumulating in f32 keeps the result within float summation order
// of the reference. Activation rounding to f16/bf16 is round-to-nearest-even, bit-identical to
// quant::fp32_to_fp16 / fp32_to_bf16 (including their canonical NaNs).
#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "backend/cpu/kernels/neon_common.h"
#include "backend/cpu/kernels/neon_kernel_tables.h"
#include "quant/quant.h"

namespace anychip::cpu {
namespace {

// ---- activation conversion ----

void quantize_f32(const float* x, void* dst, int64_t n) { std::memcpy(dst, x, static_cast<size_t>(n) * sizeof(float)); }

void quantize_f16(const float* x, void* dst, int64_t n) {
  auto* out = static_cast<uint16_t*>(dst);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t v = vld1q_f32(x + i);
    // FCVTN rounds to nearest even with IEEE overflow to infinity and exact subnormals, as
    // fp32_to_fp16; only NaNs differ (FCVTN keeps payload bits), so they become sign | 0x7e00.
    const uint16x4_t h = vreinterpret_u16_f16(vcvt_f16_f32(v));
    const uint32x4_t bits = vreinterpretq_u32_f32(v);
    const uint16x4_t is_nan = vmovn_u32(vmvnq_u32(vceqq_f32(v, v)));
    const uint16x4_t canonical = vorr_u16(vand_u16(vshrn_n_u32(bits, 16), vdup_n_u16(0x8000)), vdup_n_u16(0x7e00));
    vst1_u16(out + i, vbsl_u16(is_nan, canonical, h));
  }
  for (; i < n; ++i) out[i] = quant::fp32_to_fp16(x[i]);
}

void quantize_bf16(const float* x, void* dst, int64_t n) {
  auto* out = static_cast<uint16_t*>(dst);
  int64_t i = 0;
  const uint32x4_t abs_mask = vdupq_n_u32(0x7fffffffu), inf = vdupq_n_u32(0x7f800000u);
  for (; i + 4 <= n; i += 4) {
    const uint32x4_t bits = vld1q_u32(reinterpret_cast<const uint32_t*>(x + i));
    // Round to nearest even on the dropped 16 bits; NaN: truncate and force quiet (| 0x40).
    const uint32x4_t lsb = vandq_u32(vshrq_n_u32(bits, 16), vdupq_n_u32(1));
    const uint32x4_t rounded = vshrq_n_u32(vaddq_u32(bits, vaddq_u32(vdupq_n_u32(0x7fffu), lsb)), 16);
    const uint32x4_t quiet = vorrq_u32(vshrq_n_u32(bits, 16), vdupq_n_u32(0x40u));
    const uint32x4_t is_nan = vcgtq_u32(vandq_u32(bits, abs_mask), inf);
    vst1_u16(out + i, vmovn_u32(vbslq_u32(is_nan, quiet, rounded)));
  }
  for (; i < n; ++i) out[i] = quant::fp32_to_bf16(x[i]);
}

// ---- loading 4 elements as f32 ----

struct F32 {
  using T = float;
  static float32x4_t load4(const T* p) { return vld1q_f32(p); }
  static float one(const T* p) { return *p; }
};
struct F16 {
  using T = uint16_t;
  static float32x4_t load4(const T* p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }
  static float one(const T* p) { return quant::fp16_to_fp32(*p); }
};
struct BF16 {
  using T = uint16_t;
  static float32x4_t load4(const T* p) { return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16)); }
  static float one(const T* p) { return quant::bf16_to_fp32(*p); }
};

// kT tokens at a time, kU vectors of 4 per step (kT * kU accumulators).
template <class L, int kT, int kU>
void gemm_tile(const uint8_t* w, size_t row_bytes, int64_t n, const uint8_t* x, size_t x_stride, float* y,
               size_t y_stride, int64_t row_begin, int64_t row_end) {
  using T = typename L::T;
  const T* xs[kT];
  for (int t = 0; t < kT; ++t) xs[t] = reinterpret_cast<const T*>(x + static_cast<size_t>(t) * x_stride);
  constexpr int64_t kStep = 4 * kU;
  for (int64_t r = row_begin; r < row_end; ++r) {
    const T* wr = reinterpret_cast<const T*>(w + static_cast<size_t>(r) * row_bytes);
    float32x4_t acc[kT][kU];
    for (int t = 0; t < kT; ++t) {
      for (int u = 0; u < kU; ++u) acc[t][u] = vdupq_n_f32(0.0f);
    }
    int64_t i = 0;
    for (; i + kStep <= n; i += kStep) {
      float32x4_t wv[kU];
      for (int u = 0; u < kU; ++u) wv[u] = L::load4(wr + i + 4 * u);
      for (int t = 0; t < kT; ++t) {
        for (int u = 0; u < kU; ++u) acc[t][u] = vfmaq_f32(acc[t][u], wv[u], L::load4(xs[t] + i + 4 * u));
      }
    }
    for (; i + 4 <= n; i += 4) {
      const float32x4_t wv = L::load4(wr + i);
      for (int t = 0; t < kT; ++t) acc[t][0] = vfmaq_f32(acc[t][0], wv, L::load4(xs[t] + i));
    }
    for (int t = 0; t < kT; ++t) {
      float32x4_t s = acc[t][0];
      for (int u = 1; u < kU; ++u) s = vaddq_f32(s, acc[t][u]);
      float sum = vaddvq_f32(s);
      for (int64_t j = i; j < n; ++j) sum += L::one(wr + j) * L::one(xs[t] + j);
      y[static_cast<size_t>(t) * y_stride + static_cast<size_t>(r)] = sum;
    }
  }
}

template <class L>
void gemm(const uint8_t* w, size_t row_bytes, int64_t n, const uint8_t* x, size_t x_stride, int64_t n_tokens, float* y,
          size_t y_stride, int64_t row_begin, int64_t row_end) {
  // kU fixes how a row's products are split over accumulators, so it must be the same for every
  // tile: a token then gets the same bits alone and in any batch. 4 x 4 accumulators plus 4
  // weight vectors still fit the 32 NEON registers.
  constexpr int kU = 4;
  int64_t t = 0;
  for (; t + 4 <= n_tokens; t += 4) {
    gemm_tile<L, 4, kU>(w, row_bytes, n, x + t * x_stride, x_stride, y + t * y_stride, y_stride, row_begin, row_end);
  }
  const uint8_t* xt = x + t * x_stride;
  float* yt = y + t * y_stride;
  switch (n_tokens - t) {
    case 3: gemm_tile<L, 3, kU>(w, row_bytes, n, xt, x_stride, yt, y_stride, row_begin, row_end); break;
    case 2: gemm_tile<L, 2, kU>(w, row_bytes, n, xt, x_stride, yt, y_stride, row_begin, row_end); break;
    case 1: gemm_tile<L, 1, kU>(w, row_bytes, n, xt, x_stride, yt, y_stride, row_begin, row_end); break;
    default: break;
  }
}

const MatmulKernels kNeon[] = {
    {GgmlType::F32, GgmlType::F32, Isa::Neon, quantize_f32, gemm<F32>},
    {GgmlType::F16, GgmlType::F16, Isa::Neon, quantize_f16, gemm<F16>},
    {GgmlType::BF16, GgmlType::BF16, Isa::Neon, quantize_bf16, gemm<BF16>},
};

}  // namespace

std::span<const MatmulKernels> float_neon_kernels() { return kNeon; }

}  // namespace anychip::cpu
