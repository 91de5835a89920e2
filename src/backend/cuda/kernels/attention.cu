// Causal attention over the paged KV cache with an online (flash-style) softmax. A block takes
// one head of a tile of R query rows of the same sequence: R = 1 for decode, kAttentionTileRows
// for prefill, where each key and value read from the cache serves all R rows. The block's four
// warps split the keys in runs of 32 (one key per lane for the scores, one dimension per lane for
// the values) and merge their partial softmax states at the end. Sums are f32; the query is
// rounded to f16 first with an f16 cache, as the CPU reference does.
#include <cuda_fp16.h>

#include <cmath>

#include "backend/cuda/kernels/launch.h"
#include "backend/cuda/kernels/kernel_common.cuh"

namespace anychip::cuda::kernels {
namespace {

constexpr int kWarps = 4;
constexpr unsigned kAll = 0xffffffffu;

template <bool kHalf>
__device__ __forceinline__ float cache_value(const uint8_t* row, int d) {
  if constexpr (kHalf) {
    return __half2float(reinterpret_cast<const __half*>(row)[d]);
  } else {
    return reinterpret_cast<const float*>(row)[d];
  }
}

// Elements d0 .. d0+7 of a cache row; the row is 16-byte aligned.
template <bool kHalf>
__device__ __forceinline__ void cache_values8(const uint8_t* row, int d0, float* out) {
  if constexpr (kHalf) {
    const uint4 raw = *reinterpret_cast<const uint4*>(row + 2 * d0);
    const uint32_t words[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      out[2 * i] = __half2float(__ushort_as_half(static_cast<unsigned short>(words[i] & 0xffffu)));
      out[2 * i + 1] = __half2float(__ushort_as_half(static_cast<unsigned short>(words[i] >> 16)));
    }
  } else {
    const float4 a = *reinterpret_cast<const float4*>(row + 4 * d0);
    const float4 b = *reinterpret_cast<const float4*>(row + 4 * d0 + 16);
    out[0] = a.x, out[1] = a.y, out[2] = a.z, out[3] = a.w;
    out[4] = b.x, out[5] = b.y, out[6] = b.z, out[7] = b.w;
  }
}

size_t shared_bytes(int rows, int head_dim) {
  return static_cast<size_t>(rows * head_dim + kWarps * rows * (head_dim + 2)) * sizeof(float);
}

template <int R, int DPL, bool kHalf>
__global__ void __launch_bounds__(kWarps* kWarp) attention_kernel(AttentionArgs a) {
  ANYCHIP_DYNAMIC_SHARED(float, smem);
  const int D = a.head_dim;
  float* qs = smem;                // R x D queries
  float* merge = smem + R * D;     // per warp and row: max, sum, D accumulators
  const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
  const int head = blockIdx.y;
  int first_row = blockIdx.x, n_rows = 1;
  if (a.tiles) {
    first_row = a.tiles[2 * blockIdx.x];
    n_rows = a.tiles[2 * blockIdx.x + 1];
  }
  const int32_t* table = a.block_table + static_cast<int64_t>(a.row_seq[first_row]) * a.max_blocks;
  int pos[R];
  int max_pos = 0;
#pragma unroll
  for (int r = 0; r < R; ++r) {
    pos[r] = r < n_rows ? a.positions[first_row + r] : -1;
    max_pos = max(max_pos, pos[r]);
  }
  for (int i = threadIdx.x; i < R * D; i += blockDim.x) {
    const int r = i / D, d = i % D;
    float v = r < n_rows ? a.q[(first_row + r) * a.q_stride + static_cast<int64_t>(head) * D + d] : 0.0f;
    if constexpr (kHalf) v = __half2float(__float2half_rn(v));
    qs[i] = v;
  }
  __syncthreads();

  const size_t head_offset = static_cast<size_t>(head / a.group) * D * (kHalf ? 2 : 4);
  const bool vector_rows = D % 8 == 0 && ((reinterpret_cast<uintptr_t>(a.k) | a.kv_stride | head_offset) % 16) == 0;
  float m[R], l[R], acc[R][DPL];
#pragma unroll
  for (int r = 0; r < R; ++r) {
    m[r] = -INFINITY;
    l[r] = 0.0f;
#pragma unroll
    for (int j = 0; j < DPL; ++j) acc[r][j] = 0.0f;
  }

  const int n_keys = max_pos + 1;
  for (int base = warp * kWarp; base < n_keys; base += kWarps * kWarp) {
    const int key = base + lane;
    const bool valid = key < n_keys;
    int64_t cache_row = 0;
    if (valid) cache_row = static_cast<int64_t>(table[key / a.block_size]) * a.block_size + key % a.block_size;

    // Scores: lane = key.
    float s[R];
#pragma unroll
    for (int r = 0; r < R; ++r) s[r] = 0.0f;
    if (valid) {
      const uint8_t* krow = a.k + cache_row * a.kv_stride + head_offset;
      if (vector_rows) {
        for (int d0 = 0; d0 < D; d0 += 8) {
          float kv[8];
          cache_values8<kHalf>(krow, d0, kv);
#pragma unroll
          for (int i = 0; i < 8; ++i) {
#pragma unroll
            for (int r = 0; r < R; ++r) s[r] = fmaf(qs[r * D + d0 + i], kv[i], s[r]);
          }
        }
      } else {
        for (int d = 0; d < D; ++d) {
          const float kv = cache_value<kHalf>(krow, d);
#pragma unroll
          for (int r = 0; r < R; ++r) s[r] = fmaf(qs[r * D + d], kv, s[r]);
        }
      }
    }

    // Online softmax update per row; p = this lane's key weight.
    float p[R];
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const bool live = valid && key <= pos[r];
      const float score = live ? s[r] * a.scale : -INFINITY;
      const float m_new = fmaxf(m[r], warp_max(score));
      p[r] = 0.0f;
      if (m_new == -INFINITY) continue;  // warp-uniform: no key of this run is visible to row r yet
      const float correction = expf(m[r] - m_new);
      p[r] = live ? expf(score - m_new) : 0.0f;
      l[r] = l[r] * correction + warp_sum(p[r]);
#pragma unroll
      for (int j = 0; j < DPL; ++j) acc[r][j] *= correction;
      m[r] = m_new;
    }

    // Values: lane = dimension.
    const int keys_here = min(kWarp, n_keys - base);
    for (int kk = 0; kk < keys_here; ++kk) {
      const int64_t vrow = __shfl_sync(kAll, cache_row, kk);
      const uint8_t* vptr = a.v + vrow * a.kv_stride + head_offset;
      float pk[R];
#pragma unroll
      for (int r = 0; r < R; ++r) pk[r] = __shfl_sync(kAll, p[r], kk);
#pragma unroll
      for (int j = 0; j < DPL; ++j) {
        const int d = lane + kWarp * j;
        if (d < D) {
          const float vv = cache_value<kHalf>(vptr, d);
#pragma unroll
          for (int r = 0; r < R; ++r) acc[r][j] = fmaf(pk[r], vv, acc[r][j]);
        }
      }
    }
  }

  // Merge the warps' states: rescale each to the common maximum.
#pragma unroll
  for (int r = 0; r < R; ++r) {
    float* state = merge + (warp * R + r) * (D + 2);
    if (lane == 0) {
      state[0] = m[r];
      state[1] = l[r];
    }
#pragma unroll
    for (int j = 0; j < DPL; ++j) {
      const int d = lane + kWarp * j;
      if (d < D) state[2 + d] = acc[r][j];
    }
  }
  __syncthreads();
  for (int r = warp; r < n_rows; r += kWarps) {
    float max_all = -INFINITY;
    for (int w = 0; w < kWarps; ++w) max_all = fmaxf(max_all, merge[(w * R + r) * (D + 2)]);
    float weight[kWarps], sum = 0.0f;
    for (int w = 0; w < kWarps; ++w) {
      const float mw = merge[(w * R + r) * (D + 2)];
      weight[w] = mw == -INFINITY ? 0.0f : expf(mw - max_all);
      sum += merge[(w * R + r) * (D + 2) + 1] * weight[w];
    }
    const float inv = sum > 0.0f ? 1.0f / sum : 0.0f;
    float* out = a.out + (first_row + r) * a.out_stride + static_cast<int64_t>(head) * D;
    for (int d = lane; d < D; d += kWarp) {
      float o = 0.0f;
      for (int w = 0; w < kWarps; ++w) o += merge[(w * R + r) * (D + 2) + 2 + d] * weight[w];
      out[d] = o * inv;
    }
  }
}

template <int R, int DPL>
void launch_with(const AttentionArgs& a, cudaStream_t s) {
  const dim3 grid(static_cast<unsigned>(a.n_tiles), static_cast<unsigned>(a.n_head));
  const size_t smem = shared_bytes(R, a.head_dim);
  if (a.f16_cache) {
    launch(attention_kernel<R, DPL, true>, grid, kWarps * kWarp, smem, s, a);
  } else {
    launch(attention_kernel<R, DPL, false>, grid, kWarps * kWarp, smem, s, a);
  }
}

template <int R>
void launch_rows(const AttentionArgs& a, cudaStream_t s) {
  if (a.head_dim <= 32) {
    launch_with<R, 1>(a, s);
  } else if (a.head_dim <= 64) {
    launch_with<R, 2>(a, s);
  } else if (a.head_dim <= 128) {
    launch_with<R, 4>(a, s);
  } else {
    launch_with<R, 8>(a, s);
  }
}

}  // namespace

void attention(const AttentionArgs& a, cudaStream_t s) {
  if (a.n_tiles == 0 || a.n_head == 0) return;
  if (a.tiles) {
    launch_rows<kAttentionTileRows>(a, s);
  } else {
    launch_rows<1>(a, s);
  }
}

}  // namespace anychip::cuda::kernels
