#pragma once
// Which kernel instruction sets this CPU can run, for tests that try every kernel variant.
#include "backend/cpu/kernels/matmul_kernels.h"

namespace anychip::testing {

inline bool usable_here(cpu::Isa kernel) {
  const cpu::Isa cpu = cpu::detect_isa();
  if (kernel == cpu::Isa::Scalar) return true;
  if (kernel == cpu::Isa::Neon || cpu == cpu::Isa::Neon) return kernel == cpu;
  return static_cast<int>(kernel) <= static_cast<int>(cpu);
}

}  // namespace anychip::testing
