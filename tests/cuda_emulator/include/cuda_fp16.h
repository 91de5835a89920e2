#pragma once
// Test-only stand-in for <cuda_fp16.h> (see cuda_runtime.h here).
#include <cuda_runtime.h>

namespace cuda_emulator {

struct __half {
  uint16_t bits;
};

float __half2float(__half h);
__half __float2half_rn(float f);
inline unsigned short __half_as_ushort(__half h) { return h.bits; }
inline __half __ushort_as_half(unsigned short bits) { return {bits}; }

}  // namespace cuda_emulator
