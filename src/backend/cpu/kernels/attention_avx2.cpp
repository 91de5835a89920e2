// AVX2 + F16C attention head over an f16 cache. See attention_kernels.h for the numerics.
#include <immintrin.h>

#include <cmath>

#include "backend/cpu/kernels/attention_kernels.h"

namespace anychip::cpu {
namespace {

inline __m256 round_to_f16(__m256 x) { return _mm256_cvtph_ps(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT)); }

inline float horizontal_sum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

void attention_head_avx2(const float* q, const uint16_t* k, const uint16_t* v, size_t row_stride,
                         const int32_t* blocks, int block_size, int head_dim, int64_t n_keys, float scale, float* out) {
  alignas(32) float qr[256];
  alignas(32) float acc[256];
  for (int d = 0; d < head_dim; d += 8) {
    _mm256_store_ps(qr + d, round_to_f16(_mm256_loadu_ps(q + d)));
    _mm256_store_ps(acc + d, _mm256_setzero_ps());
  }
  float running_max = -INFINITY, running_sum = 0.0f;
  for (int64_t key = 0; key < n_keys; ++key) {
    const size_t cache_row = static_cast<size_t>(blocks[key / block_size]) * block_size + static_cast<size_t>(key % block_size);
    const uint16_t* kr = k + cache_row * row_stride;
    __m256 dot = _mm256_setzero_ps();
    for (int d = 0; d < head_dim; d += 8) {
      const __m256 kv = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kr + d)));
      dot = _mm256_fmadd_ps(kv, _mm256_load_ps(qr + d), dot);
    }
    const float score = horizontal_sum(dot) * scale;
    float old_scale = 1.0f, weight = 1.0f;
    if (score > running_max) {
      old_scale = std::exp(running_max - score);
      running_max = score;
      const __m256 s = _mm256_set1_ps(old_scale);
      for (int d = 0; d < head_dim; d += 8) _mm256_store_ps(acc + d, round_to_f16(_mm256_mul_ps(_mm256_load_ps(acc + d), s)));
    } else {
      weight = std::exp(score - running_max);
    }
    const uint16_t* vr = v + cache_row * row_stride;
    const __m256 w = _mm256_set1_ps(weight);
    for (int d = 0; d < head_dim; d += 8) {
      const __m256 vv = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(vr + d)));
      _mm256_store_ps(acc + d, round_to_f16(_mm256_fmadd_ps(vv, w, _mm256_load_ps(acc + d))));
    }
    running_sum = running_sum * old_scale + weight;
  }
  const __m256 inv = _mm256_set1_ps(running_sum > 0 ? 1.0f / running_sum : 0.0f);
  for (int d = 0; d < head_dim; d += 8) _mm256_storeu_ps(out + d, _mm256_mul_ps(_mm256_load_ps(acc + d), inv));
}

void attention_group_avx2(const float* q, int n_heads, const uint16_t* k, const uint16_t* v, size_t row_stride,
                          const int32_t* blocks, int block_size, int head_dim, int64_t n_keys, float scale, float* out) {
  for (int h = 0; h < n_heads; ++h) {
    attention_head_avx2(q + h * head_dim, k, v, row_stride, blocks, block_size, head_dim, n_keys, scale, out + h * head_dim);
  }
}

}  // namespace

AttentionGroupF16Fn attention_f16_avx2() { return attention_group_avx2; }

}  // namespace anychip::cpu
