// AVX-512 attention for head sizes 64 and 128 (the others use the AVX2 kernel).
//
// The online softmax's per-key steps (ref::attention_head) are a chain: each key's weight depends
// on the running maximum, and each rescale and accumulation rounds the f16 accumulator. Only the
// accumulation has to stay a chain, so keys go in chunks of 16 in three passes:
//   1. the 16 scores, independent of each other;
//   2. for all 16 at once: the running maximum before each key (a prefix max), whether the key
//      raises it, and its weight or rescale factor, with one vector exp;
//   3. the f16 accumulation, key by key, in the reference's order.
// The query heads that share a KV head (grouped-query attention) run together, a few per pass,
// so each key and value row is loaded and widened once for all of them and their chains overlap.
// Numerics as attention_kernels.h says, with exp from exp_poly.h instead of std::exp.
// GCC 12 reports its own intrinsics' deliberately undefined temporaries (GCC PR 105593).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "backend/cpu/kernels/attention_kernels.h"
#include "backend/cpu/kernels/exp_avx512.h"

namespace anychip::cpu {
namespace {

constexpr int kChunk = 16;  // keys per chunk: one vector of scores

inline __m512 round_to_f16(__m512 x) { return _mm512_cvtph_ps(_mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT)); }
inline __m512 load_f16(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }

// Lane i of the result is max(carry, x[0..i-1]): the running maximum before key i.
inline __m512 running_max_before(__m512 x, float carry) {
  const __m512 none = _mm512_set1_ps(-INFINITY);
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  // Shift by one lane (filling with carry), then an inclusive prefix max in four doubling steps.
  __m512 m = _mm512_mask_permutexvar_ps(_mm512_set1_ps(carry), 0xfffe, _mm512_sub_epi32(lane, _mm512_set1_epi32(1)), x);
  for (int shift = 1; shift < kChunk; shift *= 2) {
    const __mmask16 has_source = static_cast<__mmask16>(0xffffu << shift);
    const __m512 shifted = _mm512_mask_permutexvar_ps(none, has_source, _mm512_sub_epi32(lane, _mm512_set1_epi32(shift)), m);
    m = _mm512_max_ps(m, shifted);
  }
  return m;
}

// The softmax bookkeeping of one head for one chunk, per key: whether it raises the maximum, the
// factor the accumulator is rescaled by then, and the weight its value row is added with.
struct ChunkWeights {
  alignas(64) float rescale[kChunk];
  alignas(64) float weight[kChunk];
  __mmask16 raises = 0;
};

inline void chunk_weights(__m512 scores, __mmask16 valid, float& running_max, ChunkWeights& out) {
  scores = _mm512_mask_blend_ps(valid, _mm512_set1_ps(-INFINITY), scores);
  const __m512 before = running_max_before(scores, running_max);
  const __mmask16 raises = _mm512_mask_cmp_ps_mask(valid, scores, before, _CMP_GT_OQ);
  // exp(before - score) when the key raises the maximum, else exp(score - before); the first key's
  // before is -inf, whose exp is 0: the clamp keeps the polynomial finite and still gives 0.
  const __m512 arg = _mm512_mask_sub_ps(_mm512_sub_ps(scores, before), raises, before, scores);
  const __m512 e = exp16(_mm512_max_ps(arg, _mm512_set1_ps(-110.0f)));
  const __m512 one = _mm512_set1_ps(1.0f);
  _mm512_store_ps(out.rescale, _mm512_mask_blend_ps(raises, one, e));
  _mm512_store_ps(out.weight, _mm512_mask_blend_ps(raises, e, one));
  out.raises = raises;
  running_max = std::max(running_max, _mm512_mask_reduce_max_ps(valid, scores));
}

// kVectors = head_dim / 16; kHeads query heads, head_dim apart in q and out.
template <int kVectors, int kHeads>
void attention_heads(const float* q, const uint16_t* k, const uint16_t* v, size_t row_stride, const int32_t* blocks,
                     int block_size, int64_t n_keys, float scale, float* out) {
  constexpr int kDim = 16 * kVectors;
  alignas(64) float qr[kHeads][kDim];
  __m512 acc[kHeads][kVectors];
  float running_max[kHeads], running_sum[kHeads];
  for (int h = 0; h < kHeads; ++h) {
    for (int i = 0; i < kVectors; ++i) {
      _mm512_store_ps(&qr[h][16 * i], round_to_f16(_mm512_loadu_ps(q + h * kDim + 16 * i)));
      acc[h][i] = _mm512_setzero_ps();
    }
    running_max[h] = -INFINITY;
    running_sum[h] = 0.0f;
  }
  for (int64_t first = 0; first < n_keys; first += kChunk) {
    const int count = static_cast<int>(std::min<int64_t>(kChunk, n_keys - first));
    size_t row_offset[kChunk];
    for (int j = 0; j < count; ++j) {
      const int64_t key = first + j;
      row_offset[j] = (static_cast<size_t>(blocks[key / block_size]) * block_size + static_cast<size_t>(key % block_size)) * row_stride;
    }
    // The cache rows are usually out of every cache level (a decode step streams all weights
    // between two visits); requesting the chunk's rows up front overlaps their misses.
    for (int j = 0; j < count; ++j) {
      for (int line = 0; line < kDim * 2; line += 64) {
        _mm_prefetch(reinterpret_cast<const char*>(k + row_offset[j]) + line, _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(v + row_offset[j]) + line, _MM_HINT_T0);
      }
    }
    alignas(64) float scores[kHeads][kChunk];
    for (int j = 0; j < count; ++j) {
      const uint16_t* kr = k + row_offset[j];
      __m512 key_row[kVectors];
      for (int i = 0; i < kVectors; ++i) key_row[i] = load_f16(kr + 16 * i);
      for (int h = 0; h < kHeads; ++h) {
        __m512 dot0 = _mm512_mul_ps(key_row[0], _mm512_load_ps(&qr[h][0]));
        __m512 dot1 = _mm512_mul_ps(key_row[1], _mm512_load_ps(&qr[h][16]));
        for (int i = 2; i < kVectors; i += 2) {
          dot0 = _mm512_fmadd_ps(key_row[i], _mm512_load_ps(&qr[h][16 * i]), dot0);
          dot1 = _mm512_fmadd_ps(key_row[i + 1], _mm512_load_ps(&qr[h][16 * (i + 1)]), dot1);
        }
        scores[h][j] = _mm512_reduce_add_ps(_mm512_add_ps(dot0, dot1)) * scale;
      }
    }
    const __mmask16 valid = static_cast<__mmask16>((1u << count) - 1u);
    ChunkWeights weights[kHeads];
    for (int h = 0; h < kHeads; ++h) {
      chunk_weights(_mm512_maskz_load_ps(valid, scores[h]), valid, running_max[h], weights[h]);
    }
    for (int j = 0; j < count; ++j) {
      const uint16_t* vr = v + row_offset[j];
      __m512 value_row[kVectors];
      for (int i = 0; i < kVectors; ++i) value_row[i] = load_f16(vr + 16 * i);
      for (int h = 0; h < kHeads; ++h) {
        const float rescale = weights[h].rescale[j], weight = weights[h].weight[j];
        if ((weights[h].raises >> j) & 1) {
          const __m512 s = _mm512_set1_ps(rescale);
          for (int i = 0; i < kVectors; ++i) acc[h][i] = round_to_f16(_mm512_mul_ps(acc[h][i], s));
        }
        const __m512 w = _mm512_set1_ps(weight);
        for (int i = 0; i < kVectors; ++i) acc[h][i] = round_to_f16(_mm512_fmadd_ps(value_row[i], w, acc[h][i]));
        running_sum[h] = running_sum[h] * rescale + weight;
      }
    }
  }
  for (int h = 0; h < kHeads; ++h) {
    const __m512 inv = _mm512_set1_ps(running_sum[h] > 0 ? 1.0f / running_sum[h] : 0.0f);
    for (int i = 0; i < kVectors; ++i) _mm512_storeu_ps(out + h * kDim + 16 * i, _mm512_mul_ps(acc[h][i], inv));
  }
}

// Passes of up to kMaxHeads heads: their accumulators and one value row fit in the 32 vector
// registers.
template <int kVectors>
void attention_group(const float* q, int n_heads, const uint16_t* k, const uint16_t* v, size_t row_stride,
                     const int32_t* blocks, int block_size, int64_t n_keys, float scale, float* out) {
  constexpr int kMaxHeads = kVectors == 4 ? 4 : 2;
  constexpr int kDim = 16 * kVectors;
  for (int h = 0; h < n_heads;) {
    const int heads = std::min(kMaxHeads, n_heads - h);
    const float* qh = q + h * kDim;
    float* oh = out + h * kDim;
    if constexpr (kMaxHeads == 4) {
      if (heads == 4) attention_heads<kVectors, 4>(qh, k, v, row_stride, blocks, block_size, n_keys, scale, oh);
      if (heads == 3) attention_heads<kVectors, 3>(qh, k, v, row_stride, blocks, block_size, n_keys, scale, oh);
    }
    if (heads == 2) attention_heads<kVectors, 2>(qh, k, v, row_stride, blocks, block_size, n_keys, scale, oh);
    if (heads == 1) attention_heads<kVectors, 1>(qh, k, v, row_stride, blocks, block_size, n_keys, scale, oh);
    h += heads;
  }
}

void attention_group_avx512(const float* q, int n_heads, const uint16_t* k, const uint16_t* v, size_t row_stride,
                            const int32_t* blocks, int block_size, int head_dim, int64_t n_keys, float scale, float* out) {
  if (head_dim == 64) {
    attention_group<4>(q, n_heads, k, v, row_stride, blocks, block_size, n_keys, scale, out);
  } else {
    attention_group<8>(q, n_heads, k, v, row_stride, blocks, block_size, n_keys, scale, out);
  }
}

}  // namespace

AttentionGroupF16Fn attention_f16_avx512() { return attention_group_avx512; }

}  // namespace anychip::cpu
