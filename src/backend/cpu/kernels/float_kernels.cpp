// Kernels for float weights: F32 (activations f32), F16 (activations rounded to f16, products
// summed in f32) and BF16 (activations rounded to bf16), as llama.cpp pairs them. The portable
// scalar versions live here with the registry entries of every ISA; the SIMD versions are in
// float_avx2.cpp / float_avx512.cpp.
#include <cstring>
#include <vector>

#include "backend/cpu/kernels/kernel_families.h"
#include "backend/cpu/kernels/neon_kernel_tables.h"
#include "backend/cpu/kernels/x86_kernel_tables.h"
#include "quant/quant.h"

namespace anychip::cpu {
namespace {

void quantize_f32(const float* x, void* dst, int64_t n) { std::memcpy(dst, x, static_cast<size_t>(n) * sizeof(float)); }

void quantize_f16(const float* x, void* dst, int64_t n) {
  auto* out = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) out[i] = quant::fp32_to_fp16(x[i]);
}

void quantize_bf16(const float* x, void* dst, int64_t n) {
  auto* out = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) out[i] = quant::fp32_to_bf16(x[i]);
}

template <GgmlType kType>
void to_f32(const uint8_t* src, float* dst, int64_t n) {
  if constexpr (kType == GgmlType::F32) {
    std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
  } else {
    for (int64_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, src + 2 * i, 2);
      dst[i] = kType == GgmlType::F16 ? quant::fp16_to_fp32(h) : quant::bf16_to_fp32(h);
    }
  }
}

// Both operands widened to f32 once per call (activations) or per row (weights); the products
// are summed in double, which keeps the fallback within rounding of the reference.
template <GgmlType kType>
void gemm_scalar(const uint8_t* w, size_t row_bytes, int64_t n, const uint8_t* x, size_t x_stride, int64_t n_tokens,
                 float* y, size_t y_stride, int64_t row_begin, int64_t row_end) {
  std::vector<float> xf(static_cast<size_t>(n * n_tokens)), wf(static_cast<size_t>(n));
  for (int64_t t = 0; t < n_tokens; ++t) to_f32<kType>(x + t * x_stride, &xf[t * n], n);
  for (int64_t r = row_begin; r < row_end; ++r) {
    to_f32<kType>(w + r * row_bytes, wf.data(), n);
    for (int64_t t = 0; t < n_tokens; ++t) {
      const float* xt = &xf[t * n];
      double acc = 0.0;
      for (int64_t i = 0; i < n; ++i) acc += static_cast<double>(wf[i]) * xt[i];
      y[t * y_stride + r] = static_cast<float>(acc);
    }
  }
}

std::vector<MatmulKernels> build_table() {
  std::vector<MatmulKernels> k = {
      {GgmlType::F32, GgmlType::F32, Isa::Scalar, quantize_f32, gemm_scalar<GgmlType::F32>},
      {GgmlType::F16, GgmlType::F16, Isa::Scalar, quantize_f16, gemm_scalar<GgmlType::F16>},
      {GgmlType::BF16, GgmlType::BF16, Isa::Scalar, quantize_bf16, gemm_scalar<GgmlType::BF16>},
  };
#if defined(__x86_64__) || defined(_M_X64)
  auto add = [&k](Isa isa, const FloatTable& t) {
    const auto entry = [](GgmlType type, Isa isa, QuantizeActivationsFn quantize, GemmFn gemm, const PackedKernels& p) {
      return MatmulKernels{type, type, isa, quantize, gemm, p.pack, p.gemm, p.unpack_row};
    };
    k.push_back(entry(GgmlType::F32, isa, t.quantize_f32, t.f32, t.packed_f32));
    k.push_back(entry(GgmlType::F16, isa, t.quantize_f16, t.f16, t.packed_f16));
    k.push_back(entry(GgmlType::BF16, isa, t.quantize_bf16, t.bf16, t.packed_bf16));
  };
  add(Isa::Avx2, float_avx2_table());
  add(Isa::Avx512Vnni, float_avx512_table());
#endif
#if defined(__aarch64__)
  for (const MatmulKernels& e : float_neon_kernels()) k.push_back(e);
#endif
  return k;
}

}  // namespace

std::span<const MatmulKernels> float_kernels() {
  static const std::vector<MatmulKernels> table = build_table();
  return table;
}

}  // namespace anychip::cpu
