// AVX2 + FMA + F16C row kernels. See row_kernels.h.
#include <immintrin.h>

#include <cmath>

#include "backend/cpu/kernels/exp_poly.h"
#include "backend/cpu/kernels/x86_kernel_tables.h"
#include "backend/cpu/reference_ops.h"

namespace anychip::cpu {
namespace {

// exp(x), computed on x clamped to [-87, 88] (where 2^n is a normal float), then +inf above
// expf's overflow threshold and 0 below -87.5: all swiglu needs of the tails, where 1 + exp(-g)
// is either huge or 1.
inline __m256 exp8(__m256 x) {
  using namespace exp_poly;
  const __m256 c = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(c, _mm256_set1_ps(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Hi), c);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Lo), r);
  __m256 p = _mm256_set1_ps(kC[5]);
  for (int i = 4; i >= 0; --i) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kC[i]));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  __m256 e = _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
  e = _mm256_blendv_ps(e, _mm256_set1_ps(__builtin_inff()), _mm256_cmp_ps(x, _mm256_set1_ps(88.7228f), _CMP_GT_OQ));
  return _mm256_blendv_ps(e, _mm256_setzero_ps(), _mm256_cmp_ps(x, _mm256_set1_ps(-87.5f), _CMP_LT_OQ));
}

void swiglu(const float* gate, const float* up, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_loadu_ps(gate + i);
    const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), g));
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e)), _mm256_loadu_ps(up + i)));
  }
  if (i < n) ref::swiglu(gate + i, up + i, out + i, n - i);
}

void to_f16(const float* x, uint16_t* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
  for (; i < n; ++i) out[i] = static_cast<uint16_t>(_cvtss_sh(x[i], _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

void rms_norm(const float* x, const float* weight, float eps, float* y, int64_t n) {
  __m256d sum[4] = {_mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd()};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    for (int q = 0; q < 4; ++q) {
      const __m256d d = _mm256_cvtps_pd(_mm_loadu_ps(x + i + 4 * q));
      sum[q] = _mm256_fmadd_pd(d, d, sum[q]);
    }
  }
  const __m256d s = _mm256_add_pd(_mm256_add_pd(sum[0], sum[1]), _mm256_add_pd(sum[2], sum[3]));
  const __m128d s2 = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
  double total = _mm_cvtsd_f64(_mm_add_sd(s2, _mm_unpackhi_pd(s2, s2)));
  for (; i < n; ++i) total += static_cast<double>(x[i]) * x[i];
  const float scale = 1.0f / std::sqrt(static_cast<float>(total / static_cast<double>(n)) + eps);
  const __m256 scale8 = _mm256_set1_ps(scale);
  for (i = 0; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), scale8), _mm256_loadu_ps(weight + i)));
  }
  for (; i < n; ++i) y[i] = x[i] * scale * weight[i];
}

int64_t argmax(const float* x, int64_t n) {
  // As the AVX-512 kernel: per lane the first index of its largest value, then the smallest
  // index among lanes holding the overall largest. Indices are kept as floats (exact below 2^24).
  if (n >= (int64_t{1} << 24)) return find_row_kernels(Isa::Scalar).argmax(x, n);
  __m256 best0 = _mm256_set1_ps(-INFINITY), best1 = best0;
  __m256 at0 = _mm256_set1_ps(-1.0f), at1 = at0;
  __m256 index = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256 step = _mm256_set1_ps(8.0f);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 v0 = _mm256_loadu_ps(x + i), v1 = _mm256_loadu_ps(x + i + 8);
    const __m256 index1 = _mm256_add_ps(index, step);
    const __m256 better0 = _mm256_cmp_ps(v0, best0, _CMP_GT_OQ), better1 = _mm256_cmp_ps(v1, best1, _CMP_GT_OQ);
    best0 = _mm256_blendv_ps(best0, v0, better0);
    best1 = _mm256_blendv_ps(best1, v1, better1);
    at0 = _mm256_blendv_ps(at0, index, better0);
    at1 = _mm256_blendv_ps(at1, index1, better1);
    index = _mm256_add_ps(index1, step);
  }
  alignas(32) float best[16], at[16];
  _mm256_store_ps(best, best0);
  _mm256_store_ps(best + 8, best1);
  _mm256_store_ps(at, at0);
  _mm256_store_ps(at + 8, at1);
  float top = -INFINITY;
  int64_t first_top = -1;
  for (int l = 0; l < 16; ++l) {
    if (at[l] < 0) continue;
    const int64_t a = static_cast<int64_t>(at[l]);
    if (best[l] > top || (best[l] == top && a < first_top)) top = best[l], first_top = a;
  }
  for (; i < n; ++i) {
    if (x[i] > top) top = x[i], first_top = i;
  }
  if (first_top >= 0) return first_top;
  return find_row_kernels(Isa::Scalar).argmax(x, n);  // every value -inf or NaN
}

}  // namespace

RowKernels row_kernels_avx2() { return {Isa::Avx2, swiglu, to_f16, rms_norm, argmax}; }

}  // namespace anychip::cpu
