#pragma once
// Row kernels for the small ops between the matmuls (swiglu, RMS norm, the KV cache's f16 stores,
// greedy sampling's argmax),
// chosen per instruction set like the matmul kernels. One token's decode step runs these on a
// single thread while the other threads wait, so their speed is generation speed.
#include <cstdint>

#include "backend/cpu/kernels/matmul_kernels.h"

namespace anychip::cpu {

struct RowKernels {
  Isa isa;
  // out = silu(gate) * up = gate / (1 + exp(-gate)) * up, as ref::swiglu computes it, with exp
  // within 2 ulp of std::exp (out may alias gate or up).
  void (*swiglu)(const float* gate, const float* up, float* out, int64_t n);
  // To f16, rounding to nearest even: bit for bit quant::fp32_to_fp16 except NaN payloads.
  void (*to_f16)(const float* x, uint16_t* out, int64_t n);
  // y = x / sqrt(mean(x^2) + eps) * weight as ref::rms_norm computes it (squares summed in double,
  // in another order; y may alias x).
  void (*rms_norm)(const float* x, const float* weight, float eps, float* y, int64_t n);
  // The index of the first largest value of x[0, n), n > 0; NaNs are never the largest (0 when
  // all are NaN).
  int64_t (*argmax)(const float* x, int64_t n);
};

// argmax's rule for a value later in the row: whether it replaces the best so far (larger, or
// the first number after NaNs). Out of line: generic code calls it, never an ISA file's copy.
bool argmax_takes(float later, float best);

// The fastest row kernels usable on `isa` (the portable ones at least).
const RowKernels& find_row_kernels(Isa isa);

}  // namespace anychip::cpu
