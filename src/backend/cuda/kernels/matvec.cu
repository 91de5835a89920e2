// Decode-time matrix-vector products (up to kMatvecMaxTokens token rows per weight read, up to
// kMatvecMaxParts matrices per launch) and the 8-bit activation rounding they use for quantized
// weights. One warp per weight row; each lane takes whole 32-weight chunks, so a block's header
// is read by the lanes of its chunks only.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "backend/cuda/kernels/block_math.h"
#include "backend/cuda/kernels/dispatch.h"
#include "backend/cuda/kernels/launch.h"
#include "backend/cuda/kernels/kernel_common.cuh"
#include "backend/cuda/kernels/quantize_chunk.cuh"

namespace anychip::cuda::kernels {
namespace {

constexpr int kRowsPerBlock = 4;  // warps per block

// One warp per chunk of 32 activations.
__global__ void quantize_kernel(QuantizeArgs a) {
  const int64_t chunks_per_row = a.cols / 32;
  const int64_t chunk = static_cast<int64_t>(blockIdx.x) * (blockDim.x / kWarp) + threadIdx.x / kWarp;
  if (chunk >= a.rows * chunks_per_row) return;
  const int lane = threadIdx.x % kWarp;
  const int64_t row = chunk / chunks_per_row, c = chunk % chunks_per_row;
  const float v = a.x[row * a.x_stride + c * 32 + lane];
  quantize_warp_chunk(v, lane, a.xq + row * a.cols + c * 32, a.meta + chunk);
}

// The part and row of the calling block's rows: blocks are numbered through the parts in
// order, each part taking whole blocks of `rows_per_block` rows. False past a part's last row.
__device__ __forceinline__ bool locate_row(const MatvecArgs& a, int rows_per_block, int row_in_block,
                                           const MatvecPart*& part, int64_t& row) {
  int64_t block = blockIdx.x;
  for (int i = 0; i < a.parts; ++i) {
    const int64_t blocks = (a.part[i].rows + rows_per_block - 1) / rows_per_block;
    if (block < blocks) {
      part = &a.part[i];
      row = block * rows_per_block + row_in_block;
      return row < a.part[i].rows;
    }
    block -= blocks;
  }
  return false;
}

// WPR warps share each weight row (one row per block when WPR > 1, else kRowsPerBlock rows of
// one warp each): long rows are split so every matrix runs as many warps, and so as many loads
// at once, as the GPU holds. Each lane takes whole 32-weight chunks; the loop is unrolled so a
// lane's loads for several chunks are in flight together. The per-warp sums are added in warp
// order, so a row's result depends only on its width, not on the batch.
template <GgmlType T, int NT, int WPR>
__global__ void __launch_bounds__(kWarp* kRowsPerBlock) matvec_quant_kernel(MatvecArgs a) {
  static_assert(WPR == 1 || WPR == 2 || WPR == 4);
  constexpr int kRows = WPR == 1 ? kRowsPerBlock : 1;
  const MatvecPart* part = nullptr;
  int64_t row = 0;
  // With WPR > 1 the block is one row: all of its warps leave here together or none does.
  if (!locate_row(a, kRows, WPR == 1 ? threadIdx.y : 0, part, row)) return;
  const int slice = WPR == 1 ? 0 : threadIdx.y;
  const uint8_t* w = part->w + row * part->w_stride;
  const int64_t chunks = a.cols / 32;
  float acc[NT];
#pragma unroll
  for (int t = 0; t < NT; ++t) acc[t] = 0.0f;
#pragma unroll 4
  for (int64_t c = slice * kWarp + threadIdx.x; c < chunks; c += kWarp * WPR) {
    blocks::Chunk ch;
    blocks::unpack_chunk<T>(w, c, ch);
#pragma unroll
    for (int t = 0; t < NT; ++t) {
      if (t < a.tokens) {
        const int4* xq = reinterpret_cast<const int4*>(a.xq + t * a.cols + c * 32);
        const int4 lo = __ldg(xq), hi = __ldg(xq + 1);
        const int32_t q[8] = {lo.x, lo.y, lo.z, lo.w, hi.x, hi.y, hi.z, hi.w};
        acc[t] += blocks::dot_chunk<blocks::Format<T>::kOffset>(ch, q, a.meta[t * chunks + c]);
      }
    }
  }
  if constexpr (WPR == 1) {
#pragma unroll
    for (int t = 0; t < NT; ++t) {
      const float v = warp_sum(acc[t]);
      if (threadIdx.x == 0 && t < a.tokens) part->y[t * a.y_stride + row] = v;
    }
  } else {
    __shared__ float partial[WPR][NT];
#pragma unroll
    for (int t = 0; t < NT; ++t) {
      const float v = warp_sum(acc[t]);
      if (threadIdx.x == 0) partial[slice][t] = v;
    }
    __syncthreads();
    if (slice == 0 && threadIdx.x == 0) {
      for (int t = 0; t < a.tokens && t < NT; ++t) {
        float v = partial[0][t];
        for (int k = 1; k < WPR; ++k) v += partial[k][t];
        part->y[t * a.y_stride + row] = v;
      }
    }
  }
}

// The CPU backend (like llama.cpp) rounds activations to the weight's half type first.
template <GgmlType T>
__device__ __forceinline__ float activation(float x) {
  if constexpr (T == GgmlType::F16) return __half2float(__float2half_rn(x));
  if constexpr (T == GgmlType::BF16) return __bfloat162float(__float2bfloat16_rn(x));
  return x;
}

template <GgmlType T, int NT>
__global__ void __launch_bounds__(kWarp* kRowsPerBlock) matvec_float_kernel(MatvecArgs a) {
  const MatvecPart* part = nullptr;
  int64_t row = 0;
  if (!locate_row(a, kRowsPerBlock, threadIdx.y, part, row)) return;
  using F = blocks::Format<T>;
  const uint8_t* w = part->w + row * part->w_stride;
  float acc[NT];
#pragma unroll
  for (int t = 0; t < NT; ++t) acc[t] = 0.0f;
  for (int64_t e = threadIdx.x; e < a.cols; e += kWarp) {
    const float wv = F::element(w + e * F::kBytes, 0);
#pragma unroll
    for (int t = 0; t < NT; ++t) {
      if (t < a.tokens) acc[t] = fmaf(wv, activation<T>(a.x[t * a.x_stride + e]), acc[t]);
    }
  }
#pragma unroll
  for (int t = 0; t < NT; ++t) {
    const float v = warp_sum(acc[t]);
    if (threadIdx.x == 0 && t < a.tokens) part->y[t * a.y_stride + row] = v;
  }
}

// One thread per 32-weight chunk, written as four 16-byte stores.
template <GgmlType T>
__global__ void dequantize_f16_kernel(DequantizeArgs a) {
  const int64_t chunks = a.cols / 32;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= a.rows * chunks) return;
  const int64_t row = i / chunks, c = i % chunks;
  blocks::Chunk ch;
  blocks::unpack_chunk<T>(a.w + row * a.w_stride, c, ch);
  uint4* out = reinterpret_cast<uint4*>(a.out + row * a.cols + c * 32);
#pragma unroll
  for (int part = 0; part < 4; ++part) {
    uint32_t packed[4];
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      const int e = part * 8 + k * 2;
      const uint32_t lo = __half_as_ushort(__float2half_rn(blocks::chunk_value(ch, e)));
      const uint32_t hi = __half_as_ushort(__float2half_rn(blocks::chunk_value(ch, e + 1)));
      packed[k] = lo | (hi << 16);
    }
    out[part] = make_uint4(packed[0], packed[1], packed[2], packed[3]);
  }
}


// Warps per weight row: on matrices of fewer rows than the GPU holds warps, enough that a lane
// has one or two chunks of a row per pass; tall matrices (the output projection, gate/up) keep
// one warp per row, which measured faster there (H100: 2.2 against 1.75 TB/s). Decided by the
// first matrix of a launch, so a matrix's arithmetic does not depend on the batch.
int warps_per_row(const MatvecArgs& a) {
  if (a.part[0].rows >= 8192) return 1;
  return a.cols >= 256 * 32 ? 4 : a.cols >= 64 * 32 ? 2 : 1;
}

template <GgmlType T, int NT, bool kQuantized>
void launch_matvec(const MatvecArgs& a, cudaStream_t s) {
  const int wpr = kQuantized ? warps_per_row(a) : 1;
  const int rows_per_block = wpr == 1 ? kRowsPerBlock : 1;
  unsigned grid = 0;
  for (int i = 0; i < a.parts; ++i) grid += grid_for(a.part[i].rows, rows_per_block);
  if (grid == 0) return;
  if constexpr (kQuantized) {
    if (wpr == 4) {
      launch(matvec_quant_kernel<T, NT, 4>, grid, dim3(kWarp, 4), 0, s, a);
    } else if (wpr == 2) {
      launch(matvec_quant_kernel<T, NT, 2>, grid, dim3(kWarp, 2), 0, s, a);
    } else {
      launch(matvec_quant_kernel<T, NT, 1>, grid, dim3(kWarp, kRowsPerBlock), 0, s, a);
    }
  } else {
    launch(matvec_float_kernel<T, NT>, grid, dim3(kWarp, kRowsPerBlock), 0, s, a);
  }
}

// Kernels exist for 1, 2, 4 and 8 tokens; a batch in between runs the next larger one.
template <GgmlType T, bool kQuantized>
void launch_matvec_for_tokens(const MatvecArgs& a, cudaStream_t s) {
  if (a.tokens <= 1) {
    launch_matvec<T, 1, kQuantized>(a, s);
  } else if (a.tokens <= 2) {
    launch_matvec<T, 2, kQuantized>(a, s);
  } else if (a.tokens <= 4) {
    launch_matvec<T, 4, kQuantized>(a, s);
  } else {
    launch_matvec<T, kMatvecMaxTokens, kQuantized>(a, s);
  }
}

}  // namespace

void quantize_activations(const QuantizeArgs& a, cudaStream_t s) {
  const int64_t chunks = a.rows * (a.cols / 32);
  if (chunks == 0) return;
  constexpr int kChunksPerBlock = 8;
  launch(quantize_kernel, grid_for(chunks, kChunksPerBlock), kChunksPerBlock * kWarp, 0, s, a);
}

void matvec(const MatvecArgs& a, cudaStream_t s) {
  if (a.parts == 0 || a.tokens == 0) return;
  const auto type = static_cast<GgmlType>(a.type);
  if (is_float_type(type)) {
    dispatch_float_type(type, [&](auto tag) { launch_matvec_for_tokens<decltype(tag)::value, false>(a, s); });
  } else {
    dispatch_quantized_type(type, [&](auto tag) { launch_matvec_for_tokens<decltype(tag)::value, true>(a, s); });
  }
}

void dequantize_f16(const DequantizeArgs& a, cudaStream_t s) {
  const int64_t chunks = a.rows * (a.cols / 32);
  if (chunks == 0) return;
  constexpr int kThreads = 128;
  dispatch_quantized_type(static_cast<GgmlType>(a.type), [&](auto tag) {
    launch(dequantize_f16_kernel<decltype(tag)::value>, grid_for(chunks, kThreads), kThreads, 0, s, a);
  });
}

}  // namespace anychip::cuda::kernels
