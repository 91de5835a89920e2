// Row lookups, cache stores and element-wise ops on f32 activations.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "backend/cuda/kernels/block_math.h"
#include "backend/cuda/kernels/dispatch.h"
#include "backend/cuda/kernels/launch.h"
#include "backend/cuda/kernels/kernel_common.cuh"
#include "backend/cuda/kernels/quantize_chunk.cuh"

namespace anychip::cuda::kernels {
namespace {

constexpr int kThreads = 256;

template <GgmlType T>
__global__ void get_rows_kernel(GetRowsArgs a) {
  const uint8_t* row = a.table + static_cast<int64_t>(a.ids[blockIdx.x]) * a.table_stride;
  float* out = a.out + blockIdx.x * a.out_stride;
  for (int64_t e = threadIdx.x; e < a.cols; e += blockDim.x) out[e] = blocks::row_element<T>(row, e);
}

__global__ void store_rows_kernel(StoreRowsArgs a) {
  const float* src = a.src + blockIdx.x * a.src_stride;
  uint8_t* dst = a.cache + static_cast<int64_t>(a.cache_rows[blockIdx.x]) * a.cache_stride;
  for (int64_t e = threadIdx.x; e < a.cols; e += blockDim.x) store_cache(dst, e, src[e], a.f16_cache);
}

// One thread per element of a rows x cols matrix: grid.y rows (up to 65535 per launch slice).
__device__ __forceinline__ float silu_times(float g, float u) { return g / (1.0f + expf(-g)) * u; }

__global__ void swiglu_kernel(SwigluArgs a) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t r = blockIdx.y;
  if (c >= a.cols) return;
  a.out[r * a.out_stride + c] = silu_times(a.gate[r * a.gate_stride + c], a.up[r * a.up_stride + c]);
}

// One warp per 32-element chunk (cols a multiple of 32), also rounding it to 8 bits.
__global__ void swiglu_quantize_kernel(SwigluArgs a) {
  const int64_t chunks_per_row = a.cols / 32;
  const int64_t chunk = static_cast<int64_t>(blockIdx.x) * (blockDim.x / kWarp) + threadIdx.x / kWarp;
  if (chunk >= a.rows * chunks_per_row) return;
  const int lane = threadIdx.x % kWarp;
  const int64_t r = chunk / chunks_per_row, c = (chunk % chunks_per_row) * 32 + lane;
  const float v = silu_times(a.gate[r * a.gate_stride + c], a.up[r * a.up_stride + c]);
  a.out[r * a.out_stride + c] = v;
  quantize_warp_chunk(v, lane, a.xq + r * a.cols + c - lane, a.meta + chunk);
}

__global__ void add_kernel(AddArgs a) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t r = blockIdx.y;
  if (c >= a.cols) return;
  a.y[r * a.y_stride + c] += a.x[r * a.x_stride + c];
}

template <GgmlType T>
__global__ void add_bias_kernel(AddBiasArgs a) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t r = blockIdx.y;
  if (c >= a.cols) return;
  a.y[r * a.y_stride + c] += blocks::row_element<T>(a.bias, c);
}

__global__ void convert_kernel(ConvertArgs a) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t r = blockIdx.y;
  if (c >= a.cols) return;
  const float v = a.x[r * a.x_stride + c];
  a.out[r * a.cols + c] = a.to_bf16 ? __bfloat16_as_ushort(__float2bfloat16_rn(v)) : __half_as_ushort(__float2half_rn(v));
}

// Launches kernel over rows x cols in slices of at most 65535 rows (the grid's y limit); the
// row pointers move with the slice.
template <class Args, class Shift>
void for_row_slices(Args a, int64_t rows, int64_t cols, void (*kernel)(Args), Shift shift, cudaStream_t s) {
  constexpr int64_t kMaxY = 65535;
  for (int64_t first = 0; first < rows; first += kMaxY) {
    const int64_t n = rows - first < kMaxY ? rows - first : kMaxY;
    Args slice = a;
    shift(slice, first);
    launch(kernel, dim3(grid_for(cols, kThreads), static_cast<unsigned>(n)), kThreads, 0, s, slice);
  }
}

}  // namespace

void get_rows(const GetRowsArgs& a, cudaStream_t s) {
  if (a.n_ids == 0) return;
  dispatch_weight_type(static_cast<GgmlType>(a.type), [&](auto tag) {
    launch(get_rows_kernel<decltype(tag)::value>, a.n_ids, kThreads, 0, s, a);
  });
}

void store_rows(const StoreRowsArgs& a, cudaStream_t s) {
  if (a.rows == 0) return;
  launch(store_rows_kernel, static_cast<unsigned>(a.rows), kThreads, 0, s, a);
}

void swiglu(const SwigluArgs& a, cudaStream_t s) {
  if (a.xq != nullptr) {
    constexpr int kChunksPerBlock = 8;
    const int64_t chunks = a.rows * (a.cols / 32);
    if (chunks > 0) launch(swiglu_quantize_kernel, grid_for(chunks, kChunksPerBlock), kChunksPerBlock * kWarp, 0, s, a);
    return;
  }
  for_row_slices(a, a.rows, a.cols, swiglu_kernel, [](SwigluArgs& x, int64_t r) {
    x.gate += r * x.gate_stride;
    x.up += r * x.up_stride;
    x.out += r * x.out_stride;
  }, s);
}

void add(const AddArgs& a, cudaStream_t s) {
  for_row_slices(a, a.rows, a.cols, add_kernel, [](AddArgs& x, int64_t r) {
    x.x += r * x.x_stride;
    x.y += r * x.y_stride;
  }, s);
}

void add_bias(const AddBiasArgs& a, cudaStream_t s) {
  dispatch_float_type(static_cast<GgmlType>(a.bias_type), [&](auto tag) {
    for_row_slices(a, a.rows, a.cols, add_bias_kernel<decltype(tag)::value>,
                   [](AddBiasArgs& x, int64_t r) { x.y += r * x.y_stride; }, s);
  });
}

void convert_activations(const ConvertArgs& a, cudaStream_t s) {
  for_row_slices(a, a.rows, a.cols, convert_kernel, [](ConvertArgs& x, int64_t r) {
    x.x += r * x.x_stride;
    x.out += r * x.cols;
  }, s);
}

}  // namespace anychip::cuda::kernels
