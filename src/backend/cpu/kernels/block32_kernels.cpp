// Kernels for the 32-element block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0): the portable scalar
// versions (also the fallback on CPUs without a SIMD version) and the registry entries of every
// ISA. Activations are Q8_0 (for Q4_0/Q5_0/Q8_0) or Q8_1 (for Q4_1/Q5_1), quantized exactly as
// ref::round_activations rounds them; each block's dot product is an exact integer sum, scaled
// by d_w * d_x in float (plus m_w * s_x for the types with a min), as llama.cpp does.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "backend/cpu/kernels/kernel_families.h"
#include "backend/cpu/kernels/neon_kernel_tables.h"
#include "backend/cpu/kernels/x86_kernel_tables.h"
#include "quant/blocks.h"
#include "quant/quant.h"

namespace anychip::cpu {
namespace {

using namespace anychip::quant;

// llama.cpp's x86 SIMD rounding (see ref::round_activations): d = amax/127 (stored as f16),
// q = round-half-even(x * (127/amax)), Q8_1's s = f16(d * sum(q)) with the unrounded d.
template <bool kWithSum>
void quantize_q8_scalar(const float* x, void* dst, int64_t n) {
  auto* out = static_cast<uint8_t*>(dst);
  for (int64_t b = 0; b < n / 32; ++b, x += 32) {
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.f;
    const float id = amax != 0.0f ? 127.f / amax : 0.0f;
    int8_t q[32];
    int sum = 0;
    for (int j = 0; j < 32; ++j) {
      q[j] = static_cast<int8_t>(std::nearbyint(x[j] * id));
      sum += q[j];
    }
    if constexpr (kWithSum) {
      BlockQ8_1 blk;
      blk.d = fp32_to_fp16(d);
      blk.s = fp32_to_fp16(d * static_cast<float>(sum));
      std::memcpy(blk.qs, q, 32);
      std::memcpy(out + b * sizeof blk, &blk, sizeof blk);
    } else {
      BlockQ8_0 blk;
      blk.d = fp32_to_fp16(d);
      std::memcpy(blk.qs, q, 32);
      std::memcpy(out + b * sizeof blk, &blk, sizeof blk);
    }
  }
}

// Each weight type decodes one block into signed values v (the dot-product partner of the
// activation's q), its scale d, and its min m (types with a min only).
struct Q4_0 {
  using Block = BlockQ4_0;
  static constexpr bool kMin = false;
  static void decode(const Block& b, int8_t* v, float& d, float&) {
    d = fp16_to_fp32(b.d);
    for (int j = 0; j < 16; ++j) {
      v[j] = static_cast<int8_t>((b.qs[j] & 0x0f) - 8);
      v[j + 16] = static_cast<int8_t>((b.qs[j] >> 4) - 8);
    }
  }
};
struct Q4_1 {
  using Block = BlockQ4_1;
  static constexpr bool kMin = true;
  static void decode(const Block& b, int8_t* v, float& d, float& m) {
    d = fp16_to_fp32(b.d);
    m = fp16_to_fp32(b.m);
    for (int j = 0; j < 16; ++j) {
      v[j] = static_cast<int8_t>(b.qs[j] & 0x0f);
      v[j + 16] = static_cast<int8_t>(b.qs[j] >> 4);
    }
  }
};
struct Q5_0 {
  using Block = BlockQ5_0;
  static constexpr bool kMin = false;
  static void decode(const Block& b, int8_t* v, float& d, float&) {
    d = fp16_to_fp32(b.d);
    uint32_t qh;
    std::memcpy(&qh, b.qh, 4);
    for (int j = 0; j < 16; ++j) {
      v[j] = static_cast<int8_t>(((b.qs[j] & 0x0f) | (((qh >> j) & 1u) << 4)) - 16);
      v[j + 16] = static_cast<int8_t>(((b.qs[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4)) - 16);
    }
  }
};
struct Q5_1 {
  using Block = BlockQ5_1;
  static constexpr bool kMin = true;
  static void decode(const Block& b, int8_t* v, float& d, float& m) {
    d = fp16_to_fp32(b.d);
    m = fp16_to_fp32(b.m);
    uint32_t qh;
    std::memcpy(&qh, b.qh, 4);
    for (int j = 0; j < 16; ++j) {
      v[j] = static_cast<int8_t>((b.qs[j] & 0x0f) | (((qh >> j) & 1u) << 4));
      v[j + 16] = static_cast<int8_t>((b.qs[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4));
    }
  }
};
struct Q8_0 {
  using Block = BlockQ8_0;
  static constexpr bool kMin = false;
  static void decode(const Block& b, int8_t* v, float& d, float&) {
    d = fp16_to_fp32(b.d);
    std::memcpy(v, b.qs, 32);
  }
};

template <class W>
void gemm_scalar(const uint8_t* w, size_t row_bytes, int64_t n, const uint8_t* x, size_t x_stride, int64_t n_tokens,
                 float* y, size_t y_stride, int64_t row_begin, int64_t row_end) {
  using Act = std::conditional_t<W::kMin, BlockQ8_1, BlockQ8_0>;
  const int64_t nb = n / 32;
  // Activation scales (and Q8_1 sums) as floats, once per call.
  std::vector<float> dx(static_cast<size_t>(nb * n_tokens)), sx(W::kMin ? dx.size() : 0);
  for (int64_t t = 0; t < n_tokens; ++t) {
    const auto* xb = reinterpret_cast<const Act*>(x + t * x_stride);
    for (int64_t b = 0; b < nb; ++b) {
      dx[t * nb + b] = fp16_to_fp32(xb[b].d);
      if constexpr (W::kMin) sx[t * nb + b] = fp16_to_fp32(xb[b].s);
    }
  }
  std::vector<float> acc(static_cast<size_t>(n_tokens));
  for (int64_t r = row_begin; r < row_end; ++r) {
    const auto* wb = reinterpret_cast<const typename W::Block*>(w + r * row_bytes);
    std::fill(acc.begin(), acc.end(), 0.0f);
    for (int64_t b = 0; b < nb; ++b) {
      int8_t v[32];
      float d = 0, m = 0;
      typename W::Block blk;
      std::memcpy(&blk, &wb[b], sizeof blk);
      W::decode(blk, v, d, m);
      for (int64_t t = 0; t < n_tokens; ++t) {
        const auto* xb = reinterpret_cast<const Act*>(x + t * x_stride) + b;
        int sumi = 0;
        for (int j = 0; j < 32; ++j) sumi += v[j] * xb->qs[j];
        acc[t] += d * dx[t * nb + b] * static_cast<float>(sumi);
        if constexpr (W::kMin) acc[t] += m * sx[t * nb + b];
      }
    }
    for (int64_t t = 0; t < n_tokens; ++t) y[t * y_stride + r] = acc[t];
  }
}

std::vector<MatmulKernels> build_table() {
  std::vector<MatmulKernels> k = {
      {GgmlType::Q4_0, GgmlType::Q8_0, Isa::Scalar, quantize_q8_scalar<false>, gemm_scalar<Q4_0>},
      {GgmlType::Q4_1, GgmlType::Q8_1, Isa::Scalar, quantize_q8_scalar<true>, gemm_scalar<Q4_1>},
      {GgmlType::Q5_0, GgmlType::Q8_0, Isa::Scalar, quantize_q8_scalar<false>, gemm_scalar<Q5_0>},
      {GgmlType::Q5_1, GgmlType::Q8_1, Isa::Scalar, quantize_q8_scalar<true>, gemm_scalar<Q5_1>},
      {GgmlType::Q8_0, GgmlType::Q8_0, Isa::Scalar, quantize_q8_scalar<false>, gemm_scalar<Q8_0>},
  };
#if defined(__x86_64__) || defined(_M_X64)
  auto add = [&k](Isa isa, const Block32Table& t) {
    auto entry = [isa](GgmlType w, GgmlType a, QuantizeActivationsFn q, GemmFn g, PackedKernels p) {
      return MatmulKernels{w, a, isa, q, g, p.pack, p.gemm, p.unpack_row};
    };
    k.push_back(entry(GgmlType::Q4_0, GgmlType::Q8_0, t.quantize_q8_0, t.q4_0, t.packed_q4_0));
    k.push_back(entry(GgmlType::Q4_1, GgmlType::Q8_1, t.quantize_q8_1, t.q4_1, t.packed_q4_1));
    k.push_back(entry(GgmlType::Q5_0, GgmlType::Q8_0, t.quantize_q8_0, t.q5_0, t.packed_q5_0));
    k.push_back(entry(GgmlType::Q5_1, GgmlType::Q8_1, t.quantize_q8_1, t.q5_1, t.packed_q5_1));
    k.push_back(entry(GgmlType::Q8_0, GgmlType::Q8_0, t.quantize_q8_0, t.q8_0, t.packed_q8_0));
  };
  add(Isa::Avx2, block32_avx2_table());
  add(Isa::Avx512Vnni, block32_avx512vnni_table());
#endif
#if defined(__aarch64__)
  for (const MatmulKernels& e : block32_neon_kernels()) k.push_back(e);
#endif
  return k;
}

}  // namespace

std::span<const MatmulKernels> block32_kernels() {
  static const std::vector<MatmulKernels> table = build_table();
  return table;
}

}  // namespace anychip::cpu
