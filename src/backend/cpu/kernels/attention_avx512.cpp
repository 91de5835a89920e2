// AVX-512 attention head over an f16 cache, for head sizes 64 and 128 (the others use the AVX2
// kernel). The f16 accumulator stays in registers across keys, and each key's score is computed
// with independent partial sums, so a key's work no longer waits on a store-to-load round trip.
// Numerics as attention_kernels.h says: the same per-key steps as ref::attention_head.
#include <immintrin.h>

#include <cmath>

#include "backend/cpu/kernels/attention_kernels.h"

namespace anychip::cpu {
namespace {

inline __m512 round_to_f16(__m512 x) { return _mm512_cvtph_ps(_mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT)); }
inline __m512 load_f16(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }

template <int kVectors>  // head_dim / 16
void attention_head(const float* q, const uint16_t* k, const uint16_t* v, size_t row_stride, const int32_t* blocks,
                    int block_size, int64_t n_keys, float scale, float* out) {
  __m512 qr[kVectors], acc[kVectors];
  for (int i = 0; i < kVectors; ++i) {
    qr[i] = round_to_f16(_mm512_loadu_ps(q + 16 * i));
    acc[i] = _mm512_setzero_ps();
  }
  float running_max = -INFINITY, running_sum = 0.0f;
  for (int64_t key = 0; key < n_keys; ++key) {
    const size_t cache_row = static_cast<size_t>(blocks[key / block_size]) * block_size + static_cast<size_t>(key % block_size);
    const uint16_t* kr = k + cache_row * row_stride;
    __m512 dot0 = _mm512_mul_ps(load_f16(kr), qr[0]);
    __m512 dot1 = _mm512_mul_ps(load_f16(kr + 16), qr[1]);
    for (int i = 2; i < kVectors; i += 2) {
      dot0 = _mm512_fmadd_ps(load_f16(kr + 16 * i), qr[i], dot0);
      dot1 = _mm512_fmadd_ps(load_f16(kr + 16 * (i + 1)), qr[i + 1], dot1);
    }
    const float score = _mm512_reduce_add_ps(_mm512_add_ps(dot0, dot1)) * scale;
    float old_scale = 1.0f, weight = 1.0f;
    if (score > running_max) {
      old_scale = std::exp(running_max - score);
      running_max = score;
      const __m512 s = _mm512_set1_ps(old_scale);
      for (int i = 0; i < kVectors; ++i) acc[i] = round_to_f16(_mm512_mul_ps(acc[i], s));
    } else {
      weight = std::exp(score - running_max);
    }
    const uint16_t* vr = v + cache_row * row_stride;
    const __m512 w = _mm512_set1_ps(weight);
    for (int i = 0; i < kVectors; ++i) acc[i] = round_to_f16(_mm512_fmadd_ps(load_f16(vr + 16 * i), w, acc[i]));
    running_sum = running_sum * old_scale + weight;
  }
  const __m512 inv = _mm512_set1_ps(running_sum > 0 ? 1.0f / running_sum : 0.0f);
  for (int i = 0; i < kVectors; ++i) _mm512_storeu_ps(out + 16 * i, _mm512_mul_ps(acc[i], inv));
}

void attention_head_avx512(const float* q, const uint16_t* k, const uint16_t* v, size_t row_stride,
                           const int32_t* blocks, int block_size, int head_dim, int64_t n_keys, float scale, float* out) {
  if (head_dim == 64) {
    attention_head<4>(q, k, v, row_stride, blocks, block_size, n_keys, scale, out);
  } else {
    attention_head<8>(q, k, v, row_stride, blocks, block_size, n_keys, scale, out);
  }
}

}  // namespace

AttentionHeadF16Fn attention_f16_avx512() { return attention_head_avx512; }

}  // namespace anychip::cpu
