// Greedy sampling's reduction on the GPU: one block per row of logits finds the first column of
// the row's largest value, so a decode step brings back one id per sequence instead of a row of
// vocabulary-many floats.
#include <cmath>

#include "backend/cuda/kernels/launch.h"
#include "backend/cuda/kernels/kernel_common.cuh"

namespace anychip::cuda::kernels {
namespace {

constexpr int kThreads = 256;

// (value, column) pairs order by value, then by the smaller column: the first maximum wins.
__device__ __forceinline__ void keep_better(float& best, int64_t& at, float v, int64_t i) {
  if (v > best || (v == best && i < at)) {
    best = v;
    at = i;
  }
}

__global__ void argmax_kernel(ArgmaxArgs a) {
  const float* x = a.x + static_cast<int64_t>(blockIdx.x) * a.x_stride;
  float best = -INFINITY;
  int64_t at = a.cols;  // past the end: loses every tie
  for (int64_t i = threadIdx.x; i < a.cols; i += blockDim.x) keep_better(best, at, x[i], i);
#pragma unroll
  for (int o = kWarp / 2; o > 0; o /= 2) {
    const float v = __shfl_xor_sync(0xffffffffu, best, o);
    const int64_t i = __shfl_xor_sync(0xffffffffu, at, o);
    keep_better(best, at, v, i);
  }
  __shared__ float best_of_warp[kThreads / kWarp];
  __shared__ int64_t at_of_warp[kThreads / kWarp];
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  if (lane == 0) {
    best_of_warp[warp] = best;
    at_of_warp[warp] = at;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    for (int w = 1; w < kThreads / kWarp; ++w) keep_better(best, at, best_of_warp[w], at_of_warp[w]);
    // A row of NaNs (or -inf only) has no larger value: column 0, as a scan from the start keeps.
    a.out[blockIdx.x] = static_cast<int32_t>(at < a.cols ? at : 0);
  }
}

}  // namespace

void argmax_rows(const ArgmaxArgs& a, cudaStream_t s) {
  if (a.rows == 0) return;
  launch(argmax_kernel, static_cast<unsigned>(a.rows), kThreads, 0, s, a);
}

}  // namespace anychip::cuda::kernels
