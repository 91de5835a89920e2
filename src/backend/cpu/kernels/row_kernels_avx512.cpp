// AVX-512 F row kernels. See row_kernels.h.
// GCC 12 reports its own intrinsics' deliberately undefined temporaries (GCC PR 105593).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "backend/cpu/kernels/exp_avx512.h"
#include "backend/cpu/kernels/x86_kernel_tables.h"

namespace anychip::cpu {
namespace {

// The lanes of a vector that hold the first `count` elements.
inline __mmask16 first_lanes(int64_t count) {
  if (count <= 0) return 0;
  return count >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << count) - 1u);
}

void swiglu(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = first_lanes(n - i);
    const __m512 g = _mm512_maskz_loadu_ps(m, gate + i);
    const __m512 e = exp16(_mm512_sub_ps(_mm512_setzero_ps(), g));
    const __m512 s = _mm512_div_ps(g, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
    _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(s, _mm512_maskz_loadu_ps(m, up + i)));
  }
}

void to_f16(const float* x, uint16_t* out, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = first_lanes(n - i);
    const __m256i h = _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm256_mask_storeu_epi16(out + i, m, h);
  }
}

void rms_norm(const float* x, const float* weight, float eps, float* y, int64_t n) {
  // Two double accumulators per 16 floats, two such pairs so the adds overlap.
  __m512d sum[4] = {_mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd()};
  for (int64_t i = 0; i < n; i += 32) {
    for (int half = 0; half < 2; ++half) {
      const __m512 v = _mm512_maskz_loadu_ps(first_lanes(n - i - 16 * half), x + i + 16 * half);
      const __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
      const __m512d hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
      sum[2 * half] = _mm512_fmadd_pd(lo, lo, sum[2 * half]);
      sum[2 * half + 1] = _mm512_fmadd_pd(hi, hi, sum[2 * half + 1]);
    }
  }
  const double total = _mm512_reduce_add_pd(_mm512_add_pd(_mm512_add_pd(sum[0], sum[1]), _mm512_add_pd(sum[2], sum[3])));
  const __m512 scale = _mm512_set1_ps(1.0f / std::sqrt(static_cast<float>(total / static_cast<double>(n)) + eps));
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = first_lanes(n - i);
    const __m512 scaled = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), scale);
    _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(scaled, _mm512_maskz_loadu_ps(m, weight + i)));
  }
}

int64_t argmax(const float* x, int64_t n) {
  // Per lane, the first index of that lane's largest value (greater-than never takes a NaN or a
  // later tie); four sets of lanes so the compares overlap. The first largest overall is then the
  // smallest index among the lanes holding the overall largest value. Lanes that never saw a
  // value above -inf hold index -1.
  constexpr int kSets = 4;
  __m512 best[kSets];
  __m512i at[kSets];
  for (int s = 0; s < kSets; ++s) {
    best[s] = _mm512_set1_ps(-INFINITY);
    at[s] = _mm512_set1_epi32(-1);
  }
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  for (int64_t i = 0; i < n; i += 16 * kSets) {
    for (int s = 0; s < kSets; ++s) {
      const int64_t first = i + 16 * s;
      if (first >= n) break;
      const __mmask16 m = first_lanes(n - first);
      const __m512 v = _mm512_maskz_loadu_ps(m, x + first);
      const __mmask16 better = _mm512_mask_cmp_ps_mask(m, v, best[s], _CMP_GT_OQ);
      best[s] = _mm512_mask_blend_ps(better, best[s], v);
      at[s] = _mm512_mask_blend_epi32(better, at[s], _mm512_add_epi32(lane, _mm512_set1_epi32(static_cast<int32_t>(first))));
    }
  }
  float top = -INFINITY;
  for (int s = 0; s < kSets; ++s) top = std::max(top, _mm512_reduce_max_ps(best[s]));
  int64_t first_top = -1;
  for (int s = 0; s < kSets; ++s) {
    const __mmask16 holds = _mm512_cmp_ps_mask(best[s], _mm512_set1_ps(top), _CMP_EQ_OQ) &
                            _mm512_cmp_epi32_mask(at[s], _mm512_setzero_si512(), _MM_CMPINT_NLT);
    if (holds == 0) continue;
    const int64_t i = _mm512_mask_reduce_min_epi32(holds, at[s]);
    if (first_top < 0 || i < first_top) first_top = i;
  }
  if (first_top >= 0) return first_top;
  return find_row_kernels(Isa::Scalar).argmax(x, n);  // every value -inf or NaN
}

}  // namespace

RowKernels row_kernels_avx512() { return {Isa::Avx512, swiglu, to_f16, rms_norm, argmax}; }

}  // namespace anychip::cpu
