#pragma once
// One warp rounds one chunk of 32 activations (lane i holds value i) to 8 bits: the
// warp-parallel form of blocks::quantize_chunk. quantize_activations runs it on rows in memory;
// rms_norm and swiglu run it on the values they have just computed, which saves a launch and a
// read before the matrix-vector product that consumes them.
#include "backend/cuda/kernels/block_math.h"
#include "backend/cuda/kernels/kernel_common.cuh"

namespace anychip::cuda::kernels {

// `q` points at the chunk's 32 quants, `meta` at its header.
__device__ __forceinline__ void quantize_warp_chunk(float v, int lane, int8_t* q, blocks::XChunk* meta) {
  const float amax = warp_max(fabsf(v));
  const blocks::Q8Params p = blocks::q8_params(amax);
  const int qv = blocks::q8_quant(v, p);
  q[lane] = static_cast<int8_t>(qv);
  int half_sum = qv;  // summed within each half-warp: lanes 0-15 and 16-31
#pragma unroll
  for (int o = 8; o > 0; o /= 2) half_sum += __shfl_xor_sync(0xffffffffu, half_sum, o);
  const int high_sum = __shfl_sync(0xffffffffu, half_sum, 16);
  if (lane == 0) *meta = blocks::XChunk{p.d, {static_cast<float>(half_sum), static_cast<float>(high_sum)}, 0.0f};
}

}  // namespace anychip::cuda::kernels
