#pragma once
// Function tables exported by the ISA-specific kernel files (*_avx2.cpp, *_avx512.cpp). Those
// files keep all their code in anonymous namespaces and hand out only these plain tables, so no
// AVX-512 copy of a shared inline function can ever be linked into generic code. Only call the
// table getters after detect_isa() said the instruction set is there (the tables themselves hold
// only pointers, so fetching one is safe on any x86 CPU).
#include "backend/cpu/kernels/matmul_kernels.h"
#include "backend/cpu/kernels/row_kernels.h"

namespace anychip::cpu {

#if defined(__x86_64__) || defined(_M_X64)

// Block-32 families: activations Q8_0 (for Q4_0, Q5_0, Q8_0 weights) and Q8_1 (Q4_1, Q5_1).
struct PackedKernels {
  PackFn pack = nullptr;
  GemmFn gemm = nullptr;
  UnpackRowFn unpack_row = nullptr;
};
struct Block32Table {
  QuantizeActivationsFn quantize_q8_0;
  QuantizeActivationsFn quantize_q8_1;
  GemmFn q4_0, q4_1, q5_0, q5_1, q8_0;
  PackedKernels packed_q4_0, packed_q4_1, packed_q5_0, packed_q5_1, packed_q8_0;  // optional
};
Block32Table block32_avx2_table();
Block32Table block32_avx512vnni_table();  // AVX-512 F/BW/VL/DQ + VNNI (Isa::Avx512Vnni)

// Float families: F32 weights with f32 activations, F16 with f16, BF16 with bf16.
struct FloatTable {
  QuantizeActivationsFn quantize_f32, quantize_f16, quantize_bf16;
  GemmFn f32, f16, bf16;
  PackedKernels packed_f32, packed_f16, packed_bf16;  // optional
};
FloatTable float_avx2_table();
FloatTable float_avx512_table();  // uses AVX512_BF16 too: Isa::Avx512Vnni only

RowKernels row_kernels_avx2();
RowKernels row_kernels_avx512();  // AVX-512 F (Isa::Avx512 and up)

#endif

}  // namespace anychip::cpu
