// AVX2 (+FMA, F16C) kernels for F32 / F16 / BF16 weights. Compiled with -mavx2 -mfma -mf16c and
// only called after run-time detection; everything here has internal linkage (see
// x86_kernel_tables.h).
//
// Tiles of R rows x T tokens: each 8-element slice of a weight row is loaded (and widened to
// f32) once and multiplied with T activation slices, accumulating in f32 with FMA; rows are
// walked in chunks of 16 so a chunk stays in cache while every token passes over it.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "backend/cpu/kernels/row_streams.h"
#include "backend/cpu/kernels/x86_kernel_tables.h"

namespace anychip::cpu {
namespace {

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// ---- activation rounding, bit-identical to quant::fp32_to_fp16 / fp32_to_bf16 ----

void quantize_f32(const float* x, void* dst, int64_t n) { std::memcpy(dst, x, static_cast<size_t>(n) * sizeof(float)); }

inline __m128i to_f16(__m256 v) {
  // F16C rounds to nearest even like the reference; NaNs become the canonical quiet NaN with
  // their sign, as the reference's conversion makes them.
  const __m256 sign = _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32(static_cast<int>(0x80000000u))));
  const __m256 qnan = _mm256_or_ps(sign, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fc00000)));
  v = _mm256_blendv_ps(v, qnan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  return _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT);
}

void quantize_f16(const float* x, void* dst, int64_t n) {
  auto* out = static_cast<uint8_t*>(dst);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * i), to_f16(_mm256_loadu_ps(x + i)));
  if (i < n) {
    float tail[8] = {};
    std::memcpy(tail, x + i, static_cast<size_t>(n - i) * sizeof(float));
    uint16_t h[8];
    _mm_storeu_si128(reinterpret_cast<__m128i*>(h), to_f16(_mm256_loadu_ps(tail)));
    std::memcpy(out + 2 * i, h, static_cast<size_t>(n - i) * 2);
  }
}

// 8 floats -> 8 bf16 in the low 16 bits of each 32-bit lane.
inline __m256i to_bf16_lanes(__m256 v) {
  const __m256i bits = _mm256_castps_si256(v);
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(1));
  const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(bits, _mm256_set1_epi32(0x7fff)), lsb), 16);
  const __m256i nan = _mm256_or_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(0x40));
  const __m256i is_nan = _mm256_cmpgt_epi32(_mm256_and_si256(bits, _mm256_set1_epi32(0x7fffffff)),
                                            _mm256_set1_epi32(0x7f800000));
  return _mm256_blendv_epi8(rounded, nan, is_nan);
}

void quantize_bf16(const float* x, void* dst, int64_t n) {
  auto* out = static_cast<uint8_t*>(dst);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i a = to_bf16_lanes(_mm256_loadu_ps(x + i)), b = to_bf16_lanes(_mm256_loadu_ps(x + i + 8));
    const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xd8);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 2 * i), packed);
  }
  for (; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, x + i, 4);
    uint16_t h;
    if ((bits & 0x7fffffffu) > 0x7f800000u) {
      h = static_cast<uint16_t>((bits >> 16) | 0x40u);
    } else {
      h = static_cast<uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
    }
    std::memcpy(out + 2 * i, &h, 2);
  }
}

// ---- loads: 8 elements widened to f32 ----

struct F32 {
  static constexpr size_t kSize = 4;
  static __m256 load(const uint8_t* p) { return _mm256_loadu_ps(reinterpret_cast<const float*>(p)); }
};
struct F16 {
  static constexpr size_t kSize = 2;
  static __m256 load(const uint8_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
};
struct BF16 {
  static constexpr size_t kSize = 2;
  static __m256 load(const uint8_t* p) {
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
  }
};

// R rows read side by side (one core read F16 rows from DRAM at 17.8 GB/s, 62 in L2, before
// each line was prefetched from the rows whole tiles below: row_streams.h).

template <class F, int R, int T>
void tile(const uint8_t* w, size_t row_bytes, int64_t n, const uint8_t* x, size_t x_stride, float* y, size_t y_stride,
          int64_t r0) {
  constexpr size_t kStep = 8 * F::kSize;
  const size_t prefetch_distance = whole_tiles_ahead(R * row_bytes);
  __m256 acc[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  }
  const uint8_t* wr[R];
  for (int r = 0; r < R; ++r) wr[r] = w + static_cast<size_t>(r0 + r) * row_bytes;
  const int64_t full = n / 8;
  for (int64_t k = 0; k < full; ++k) {
    const size_t o = static_cast<size_t>(k) * kStep;
    __m256 xv[T];
    for (int t = 0; t < T; ++t) xv[t] = F::load(x + t * x_stride + o);
    for (int r = 0; r < R; ++r) {
      // Once per 64 bytes of the row.
      if (o % 64 == 0) _mm_prefetch(reinterpret_cast<const char*>(wr[r] + o + prefetch_distance), _MM_HINT_T0);
      const __m256 wv = F::load(wr[r] + o);
      for (int t = 0; t < T; ++t) acc[r][t] = _mm256_fmadd_ps(wv, xv[t], acc[r][t]);
    }
  }
  if (const int64_t rest = n - full * 8) {
    // The last partial slice through zero-padded copies.
    const size_t o = static_cast<size_t>(full) * kStep, bytes = static_cast<size_t>(rest) * F::kSize;
    alignas(32) uint8_t buf[32];
    __m256 xv[T];
    for (int t = 0; t < T; ++t) {
      std::memset(buf, 0, sizeof buf);
      std::memcpy(buf, x + t * x_stride + o, bytes);
      xv[t] = F::load(buf);
    }
    for (int r = 0; r < R; ++r) {
      std::memset(buf, 0, sizeof buf);
      std::memcpy(buf, wr[r] + o, bytes);
      const __m256 wv = F::load(buf);
      for (int t = 0; t < T; ++t) acc[r][t] = _mm256_fmadd_ps(wv, xv[t], acc[r][t]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) y[t * y_stride + r0 + r] = hsum(acc[r][t]);
  }
}

template <class F, int T>
void rows_tile(const uint8_t* w, size_t row_bytes, int64_t n, const uint8_t* x, size_t x_stride, float* y,
               size_t y_stride, int64_t row_begin, int64_t row_end) {
  int64_t r = row_begin;
  for (; r + 4 <= row_end; r += 4) tile<F, 4, T>(w, row_bytes, n, x, x_stride, y, y_stride, r);
  for (; r < row_end; ++r) tile<F, 1, T>(w, row_bytes, n, x, x_stride, y, y_stride, r);
}

template <class F>
void gemm(const uint8_t* w, size_t row_bytes, int64_t n, const uint8_t* x, size_t x_stride, int64_t n_tokens, float* y,
          size_t y_stride, int64_t row_begin, int64_t row_end) {
  for (int64_t rc = row_begin; rc < row_end; rc += 16) {
    const int64_t rc_end = rc + 16 < row_end ? rc + 16 : row_end;
    int64_t t = 0;
    for (; t + 2 <= n_tokens; t += 2) {
      rows_tile<F, 2>(w, row_bytes, n, x + t * x_stride, x_stride, y + t * y_stride, y_stride, rc, rc_end);
    }
    if (t < n_tokens) rows_tile<F, 1>(w, row_bytes, n, x + t * x_stride, x_stride, y + t * y_stride, y_stride, rc, rc_end);
  }
}

}  // namespace

FloatTable float_avx2_table() {
  return {quantize_f32, quantize_f16, quantize_bf16, gemm<F32>, gemm<F16>, gemm<BF16>,
          {}, {}, {}};  // no packed layouts: the AVX2 kernels read the rows as stored
}

}  // namespace anychip::cpu
