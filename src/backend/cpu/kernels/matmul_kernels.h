#pragma once
// Fast matrix kernels of the CPU backend, chosen at run time for the instruction sets the CPU
// has. Quantized weights are multiplied with activations quantized to the weight type's partner
// format (ref::activation_type_for: Q8_0, Q8_1, Q8_K, f16, bf16 or f32), using integer dot
// products: the same arithmetic llama.cpp does, so results stay within float summation order of
// the reference ops. Each kernel family lives in its own file and registers itself in
// matmul_kernels.cpp; tests compare every kernel with the reference on random data.
#include <cstddef>
#include <cstdint>

#include "gguf/ggml_type.h"

namespace anychip::cpu {

enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2, Avx512Vnni = 3, Neon = 4 };
const char* isa_name(Isa isa);
// The best instruction set this CPU supports (overridable with ANYCHIP_ISA=scalar|avx2|avx512|...
// for tests and benchmarks).
Isa detect_isa();

// Quantizes n activations (n a multiple of the partner format's block size) into dst, in the
// partner format's block layout.
using QuantizeActivationsFn = void (*)(const float* x, void* dst, int64_t n);

// For rows r in [row_begin, row_end) of w (each row_bytes long, n elements) and tokens t in
// [0, n_tokens): y[t * y_stride + r] = dot(w row r, activation row t). Activation row t starts at
// x + t * x_stride (bytes) and is in the partner format.
using GemmFn = void (*)(const uint8_t* w, size_t row_bytes, int64_t n, const uint8_t* x, size_t x_stride,
                        int64_t n_tokens, float* y, size_t y_stride, int64_t row_begin, int64_t row_end);

// Copies `rows` rows of w (each row_bytes long, n elements) into dst in the kernel's own layout:
// groups of kPackRows rows, the last one padded with zero rows, so dst holds
// packed_rows(rows) * row_bytes bytes.
using PackFn = void (*)(const uint8_t* w, size_t row_bytes, int64_t n, int64_t rows, uint8_t* dst);
// Row r of packed weights, back in the file's layout (row_bytes at dst): get_rows on a packed
// table (a tied output matrix is also the token embedding table).
using UnpackRowFn = void (*)(const uint8_t* packed, size_t row_bytes, int64_t n, int64_t r, uint8_t* dst);
constexpr int64_t kPackRows = 16;
constexpr int64_t packed_rows(int64_t rows) { return (rows + kPackRows - 1) / kPackRows * kPackRows; }

struct MatmulKernels {
  GgmlType weight_type;
  GgmlType activation_type;
  Isa isa;
  QuantizeActivationsFn quantize;
  GemmFn gemm;
  // Optional (all three or none): a weight layout made once at load that gemm_packed reads faster
  // than the file's rows (no transposes, one sequential stream). gemm_packed takes the packed
  // weights in place of w, with row_begin a multiple of kPackRows, and gives bit-identical results
  // to gemm.
  PackFn pack = nullptr;
  GemmFn gemm_packed = nullptr;
  UnpackRowFn unpack_row = nullptr;
};

// The fastest kernels for weight_type usable on `isa` (falling back to lesser ISAs), or nullptr
// when none exist (the device then uses the reference ops).
const MatmulKernels* find_matmul_kernels(GgmlType weight_type, Isa isa);

}  // namespace anychip::cpu
