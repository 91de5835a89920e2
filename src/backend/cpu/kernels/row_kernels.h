#pragma once
// Elementwise kernels for the small ops between the matmuls (swiglu, the KV cache's f16 stores),
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
};

// The fastest row kernels usable on `isa` (the portable ones at least).
const RowKernels& find_row_kernels(Isa isa);

}  // namespace anychip::cpu
