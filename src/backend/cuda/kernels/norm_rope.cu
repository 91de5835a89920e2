// RMSNorm and RoPE on f32 activation rows, with the CPU reference's float operations.
#include "backend/cuda/kernels/block_math.h"
#include "backend/cuda/kernels/dispatch.h"
#include "backend/cuda/kernels/launch.h"
#include "backend/cuda/kernels/kernel_common.cuh"

namespace anychip::cuda::kernels {
namespace {

// One block per (row, group). In place (x == y) is safe: each thread writes only the elements
// it read.
template <GgmlType W>
__global__ void rms_norm_kernel(RmsNormArgs a) {
  const int64_t row = blockIdx.x / a.groups;
  const int64_t group = blockIdx.x % a.groups;
  const float* x = a.x + row * a.x_stride + group * a.n;
  float* y = a.y + row * a.y_stride + group * a.n;
  float sum = 0.0f;
  for (int i = threadIdx.x; i < a.n; i += blockDim.x) sum += x[i] * x[i];
  sum = block_sum(sum);
  const float scale = 1.0f / sqrtf(sum / static_cast<float>(a.n) + a.eps);
  for (int i = threadIdx.x; i < a.n; i += blockDim.x) y[i] = x[i] * scale * blocks::row_element<W>(a.weight, i);
}

// Grid (row, head); thread i rotates pair i. The angle pos * theta_scale^i is stepped by
// repeated multiplication exactly as the reference (and llama.cpp) does, so it rounds the same.
__global__ void rope_kernel(RopeArgs a) {
  const int64_t row = blockIdx.x;
  float* head = a.x + row * a.x_stride + static_cast<int64_t>(blockIdx.y) * a.head_dim;
  const int half = a.head_dim / 2;
  const float position = static_cast<float>(a.positions[row]);
  for (int i = threadIdx.x; i < half; i += blockDim.x) {
    float theta = position;
    for (int k = 0; k < i; ++k) theta *= a.theta_scale;
    const float factor = a.freq_factors ? a.freq_factors[i] : 1.0f;
    const float angle = a.freq_scale * theta / factor;
    const float c = cosf(angle), s = sinf(angle);
    const int first = a.neox ? i : 2 * i;
    const int second = a.neox ? i + half : 2 * i + 1;
    const float x0 = head[first], x1 = head[second];
    head[first] = x0 * c - x1 * s;
    head[second] = x0 * s + x1 * c;
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
    launch(rms_norm_kernel<decltype(tag)::value>, static_cast<unsigned>(blocks), threads_for(a.n, 256), 0, s, a);
  });
}

void rope(const RopeArgs& a, cudaStream_t s) {
  if (a.rows == 0 || a.heads == 0) return;
  launch(rope_kernel, dim3(static_cast<unsigned>(a.rows), static_cast<unsigned>(a.heads)), threads_for(a.head_dim / 2, 128), 0,
                s, a);
}

}  // namespace anychip::cuda::kernels
