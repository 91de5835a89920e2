// RMSNorm and RoPE on f32 activation rows, with the CPU reference's float operations.
#include "backend/cuda/kernels/block_math.h"
#include "backend/cuda/kernels/dispatch.h"
#include "backend/cuda/kernels/launch.h"
#include "backend/cuda/kernels/kernel_common.cuh"
#include "backend/cuda/kernels/quantize_chunk.cuh"

namespace anychip::cuda::kernels {
namespace {

// The row's 1/rms over one group, by every thread of the block. The loop is unrolled so a
// thread's loads are in flight together.
__device__ __forceinline__ float inverse_rms(const float* x, int n, float eps) {
  float sum = 0.0f;
#pragma unroll 8
  for (int i = threadIdx.x; i < n; i += blockDim.x) sum += x[i] * x[i];
  sum = block_sum(sum);
  return 1.0f / sqrtf(sum / static_cast<float>(n) + eps);
}

// One block per (row, group). In place (x == y) is safe: each thread writes only the elements
// it read.
template <GgmlType W>
__global__ void rms_norm_kernel(RmsNormArgs a) {
  const int64_t row = blockIdx.x / a.groups;
  const int64_t group = blockIdx.x % a.groups;
  const float* x = a.x + row * a.x_stride + group * a.n;
  float* y = a.y + row * a.y_stride + group * a.n;
  const float scale = inverse_rms(x, a.n, a.eps);
#pragma unroll 8
  for (int i = threadIdx.x; i < a.n; i += blockDim.x) y[i] = x[i] * scale * blocks::row_element<W>(a.weight, i);
}

constexpr int kSliceThreads = 256;

// Grid (slice, row), one group per row, n a multiple of 32, y not overlapping x: every block
// finds the row's 1/rms itself (the same sum in the same order, so the same value) and writes
// its slice of kSliceThreads elements, one warp per 32-element chunk, each chunk also rounded to
// 8 bits for the next matmul. One block per row would read the norm weights a chunk at a time.
template <GgmlType W>
__global__ void rms_norm_quantize_kernel(RmsNormArgs a) {
  const int64_t row = blockIdx.y;
  const float* x = a.x + row * a.x_stride;
  float* y = a.y + row * a.y_stride;
  const float scale = inverse_rms(x, a.n, a.eps);
  const int lane = threadIdx.x % kWarp;
  const int chunks = a.n / 32;
  const int c = blockIdx.x * (kSliceThreads / kWarp) + threadIdx.x / kWarp;
  if (c >= chunks) return;
  const int i = c * 32 + lane;
  const float v = x[i] * scale * blocks::row_element<W>(a.weight, i);
  y[i] = v;
  quantize_warp_chunk(v, lane, a.xq + row * a.n + c * 32, a.meta + row * chunks + c);
}

// The cosine and sine that rotate pair i at `position`. The angle pos * theta_scale^i is stepped
// by repeated multiplication exactly as the reference (and llama.cpp) does, so it rounds the same.
__device__ __forceinline__ void rope_angle(float position, int i, float theta_scale, float freq_scale,
                                           const float* freq_factors, float& c, float& s) {
  float theta = position;
  for (int k = 0; k < i; ++k) theta *= theta_scale;
  const float factor = freq_factors ? freq_factors[i] : 1.0f;
  const float angle = freq_scale * theta / factor;
  c = cosf(angle);
  s = sinf(angle);
}

// Rotates pair i of `head` in place; first/second: the two elements it rotated.
__device__ __forceinline__ void rotate_pair(float* head, int i, int half, bool neox, float position, float theta_scale,
                                            float freq_scale, const float* freq_factors, int& first, int& second) {
  float c, s;
  rope_angle(position, i, theta_scale, freq_scale, freq_factors, c, s);
  first = neox ? i : 2 * i;
  second = neox ? i + half : 2 * i + 1;
  const float x0 = head[first], x1 = head[second];
  head[first] = x0 * c - x1 * s;
  head[second] = x0 * s + x1 * c;
}

// Grid (row, head); thread i rotates pair i.
__global__ void rope_kernel(RopeArgs a) {
  const int64_t row = blockIdx.x;
  float* head = a.x + row * a.x_stride + static_cast<int64_t>(blockIdx.y) * a.head_dim;
  const int half = a.head_dim / 2;
  const float position = static_cast<float>(a.positions[row]);
  int first, second;
  for (int i = threadIdx.x; i < half; i += blockDim.x) {
    rotate_pair(head, i, half, a.neox, position, a.theta_scale, a.freq_scale, a.freq_factors, first, second);
  }
}

__global__ void rope_store_kernel(RopeStoreArgs a) {
  const int64_t row = blockIdx.x;
  const int head = blockIdx.y;
  const int half = a.head_dim / 2;
  if (head >= a.q_heads + a.kv_heads) {  // a v head: stored as it is
    const int hv = head - a.q_heads - a.kv_heads;
    const float* src = a.v + row * a.v_stride + static_cast<int64_t>(hv) * a.head_dim;
    uint8_t* dst = a.v_cache + static_cast<int64_t>(a.cache_rows[row]) * a.v_cache_stride;
    for (int e = threadIdx.x; e < a.head_dim; e += blockDim.x) store_cache(dst, hv * a.head_dim + e, src[e], a.v_f16);
    return;
  }
  const bool is_k = head >= a.q_heads;
  const int h = is_k ? head - a.q_heads : head;
  float* x = (is_k ? a.k + row * a.k_stride : a.q + row * a.q_stride) + static_cast<int64_t>(h) * a.head_dim;
  uint8_t* dst = is_k ? a.k_cache + static_cast<int64_t>(a.cache_rows[row]) * a.k_cache_stride : nullptr;
  const float position = static_cast<float>(a.positions[row]);
  int first, second;
  for (int i = threadIdx.x; i < half; i += blockDim.x) {
    rotate_pair(x, i, half, a.neox, position, a.theta_scale, a.freq_scale, a.freq_factors, first, second);
    if (is_k) {
      store_cache(dst, h * a.head_dim + first, x[first], a.k_f16);
      store_cache(dst, h * a.head_dim + second, x[second], a.k_f16);
    }
  }
}

int threads_for(int64_t n, int most) {
  const int64_t rounded = (n + kWarp - 1) / kWarp * kWarp;
  return static_cast<int>(rounded < most ? rounded : most);
}

}  // namespace

void rms_norm(const RmsNormArgs& a, cudaStream_t s) {
  const int64_t blocks = a.rows * a.groups;
  if (blocks == 0) return;
  dispatch_float_type(static_cast<GgmlType>(a.weight_type), [&](auto tag) {
    if (a.xq != nullptr) {
      launch(rms_norm_quantize_kernel<decltype(tag)::value>,
             dim3(grid_for(a.n, kSliceThreads), static_cast<unsigned>(a.rows)), kSliceThreads, 0, s, a);
    } else {
      launch(rms_norm_kernel<decltype(tag)::value>, static_cast<unsigned>(blocks), threads_for(a.n, 256), 0, s, a);
    }
  });
}

void rope(const RopeArgs& a, cudaStream_t s) {
  if (a.rows == 0 || a.heads == 0) return;
  launch(rope_kernel, dim3(static_cast<unsigned>(a.rows), static_cast<unsigned>(a.heads)), threads_for(a.head_dim / 2, 128), 0,
                s, a);
}

void rope_and_store(const RopeStoreArgs& a, cudaStream_t s) {
  if (a.rows == 0) return;
  launch(rope_store_kernel, dim3(static_cast<unsigned>(a.rows), static_cast<unsigned>(a.q_heads + 2 * a.kv_heads)),
         threads_for(a.head_dim / 2, 128), 0, s, a);
}

}  // namespace anychip::cuda::kernels
