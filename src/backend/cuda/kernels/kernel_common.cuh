#pragma once
// What every kernel file uses: warp- and block-wide reductions, KV cache element stores, grid
// sizing, and the launch helper. Kernels are launched through launch() rather than <<<>>> so
// the same sources also build as plain C++ against the CPU emulation the tests run without a GPU
// (tests/cuda_emulator).
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "backend/cuda/kernels/hd.h"

namespace anychip::cuda::kernels {

inline constexpr int kWarp = 32;

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = kWarp / 2; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = kWarp / 2; o > 0; o /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
__device__ __forceinline__ float block_sum(float v) {
  __shared__ float partial[32];
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  v = warp_sum(v);
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  const int warps = blockDim.x / kWarp;
  v = lane < warps ? partial[lane] : 0.0f;
  v = warp_sum(v);
  __syncthreads();  // partial may be reused by a following call
  return v;
}

// Element e of a KV cache row: f16 or f32, converted as the CPU reference's store_rows does.
__device__ __forceinline__ void store_cache(uint8_t* row, int64_t e, float v, bool f16) {
  if (f16) {
    reinterpret_cast<uint16_t*>(row)[e] = hd::float_to_half(v);
  } else {
    reinterpret_cast<float*>(row)[e] = v;
  }
}

// Blocks for n items of `per_block` each, for a 1-D grid.
inline unsigned grid_for(long long n, int per_block) { return static_cast<unsigned>((n + per_block - 1) / per_block); }

template <class... Params, class... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared_bytes, cudaStream_t stream, Args... args) {
#if defined(ANYCHIP_CUDA_EMULATION)
  ::cuda_emulator::run_grid(grid, block, shared_bytes, stream, [=] { kernel(args...); });
#else
  kernel<<<grid, block, shared_bytes, stream>>>(args...);
#endif
}

// The block's dynamic shared memory (the `shared_bytes` of its launch) as an array of T.
#if defined(ANYCHIP_CUDA_EMULATION)
#define ANYCHIP_DYNAMIC_SHARED(T, name) T* name = static_cast<T*>(::cuda_emulator::dynamic_shared())
#else
#define ANYCHIP_DYNAMIC_SHARED(T, name) extern __shared__ T name[]
#endif

}  // namespace anychip::cuda::kernels
