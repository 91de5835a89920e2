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
__device__ __forceinline__ void keep_better(float& best, int32_t& at, float v, int32_t i) {
  if (v > best || (v == best && i < at)) {
    best = v;
    at = i;
  }
}

// The block's best pair, in thread 0.
__device__ __forceinline__ void block_best(float& best, int32_t& at) {
#pragma unroll
  for (int o = kWarp / 2; o > 0; o /= 2) {
    const float v = __shfl_xor_sync(0xffffffffu, best, o);
    const int32_t i = __shfl_xor_sync(0xffffffffu, at, o);
    keep_better(best, at, v, i);
  }
  __shared__ float best_of_warp[kThreads / kWarp];
  __shared__ int32_t at_of_warp[kThreads / kWarp];
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp, warps = blockDim.x / kWarp;
  if (lane == 0) {
    best_of_warp[warp] = best;
    at_of_warp[warp] = at;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    for (int w = 1; w < warps; ++w) keep_better(best, at, best_of_warp[w], at_of_warp[w]);
  }
}

// Grid (slice, row): the best pair of one slice of a row.
__global__ void argmax_slice_kernel(ArgmaxArgs a) {
  const float* x = a.x + static_cast<int64_t>(blockIdx.y) * a.x_stride;
  const int64_t per_slice = (a.cols + kArgmaxSlices - 1) / kArgmaxSlices;
  const int64_t begin = blockIdx.x * per_slice;
  const int64_t end = begin + per_slice < a.cols ? begin + per_slice : a.cols;
  float best = -INFINITY;
  int32_t at = static_cast<int32_t>(a.cols);  // past the end: loses every tie
#pragma unroll 8
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) keep_better(best, at, __ldg(x + i), static_cast<int32_t>(i));
  block_best(best, at);
  if (threadIdx.x == 0) {
    a.partial_value[blockIdx.y * kArgmaxSlices + blockIdx.x] = best;
    a.partial_at[blockIdx.y * kArgmaxSlices + blockIdx.x] = at;
  }
}

// One block of kArgmaxSlices threads per row: the best of the slices' pairs.
__global__ void argmax_final_kernel(ArgmaxArgs a) {
  float best = a.partial_value[blockIdx.x * kArgmaxSlices + threadIdx.x];
  int32_t at = a.partial_at[blockIdx.x * kArgmaxSlices + threadIdx.x];
  block_best(best, at);
  // A row of NaNs has no larger value: column 0, as a scan from the start keeps.
  if (threadIdx.x == 0) a.out[blockIdx.x] = at < a.cols ? at : 0;
}

}  // namespace

void argmax_rows(const ArgmaxArgs& a, cudaStream_t s) {
  if (a.rows == 0) return;
  static_assert(kArgmaxSlices % kWarp == 0 && kArgmaxSlices <= kThreads);
  launch(argmax_slice_kernel, dim3(kArgmaxSlices, static_cast<unsigned>(a.rows)), kThreads, 0, s, a);
  launch(argmax_final_kernel, static_cast<unsigned>(a.rows), kArgmaxSlices, 0, s, a);
}

}  // namespace anychip::cuda::kernels
