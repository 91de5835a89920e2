#pragma once
// Test-only stand-in for <cuda_bf16.h> (see cuda_runtime.h here).
#include <cuda_runtime.h>

namespace cuda_emulator {

struct __nv_bfloat16 {
  uint16_t bits;
};

float __bfloat162float(__nv_bfloat16 h);
__nv_bfloat16 __float2bfloat16_rn(float f);
inline unsigned short __bfloat16_as_ushort(__nv_bfloat16 h) { return h.bits; }

}  // namespace cuda_emulator
