// AVX-512 kernels for F32 / F16 / BF16 weights (BF16 with AVX512_BF16's vdpbf16ps). Compiled
// with the AVX-512 flags and only called after run-time detection of Isa::Avx512Vnni (which
// includes AVX512_BF16); everything here has internal linkage (see x86_kernel_tables.h).
//
// One arithmetic for every (row, token), whatever the batch (the serving engine needs a token's
// bits not to depend on its batch): 16 f32 lanes, lane j summing the products of elements
// j, j+16, j+32, ... (BF16: the pairs of elements 2j, 2j+1, 2j+32, ... with vdpbf16ps) with one
// fused op per step in element order, a masked partial step at the row end, then
// _mm512_reduce_add_ps. Only the blocking changes with the token count:
//  - up to 4 tokens (generation): tiles of R=4 rows x T<=4 tokens; each slice of a weight row
//    is loaded once for the T tokens;
//  - more (batched decode, prompts): tiles of R=4 rows x T<=6 tokens, and F16 activations
//    widened to f32 once per call (exact, so the products are the same) instead of per tile.
// Rows go in chunks of 16 so a chunk stays in cache while every token group passes over it.
// (A former prompt path with 16 rows in the lanes of a register summed each row sequentially
// element by element: ~20% faster for BF16/F32 prompts, but other bits than generation.)
//
// GCC 12's AVX-512 headers trip -Wuninitialized inside their own _mm512_undefined_* helpers.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "backend/cpu/kernels/row_streams.h"
#include "backend/cpu/kernels/x86_kernel_tables.h"

namespace anychip::cpu {
namespace {

// ---- activation rounding, bit-identical to quant::fp32_to_fp16 / fp32_to_bf16 ----

void quantize_f32(const float* x, void* dst, int64_t n) { std::memcpy(dst, x, static_cast<size_t>(n) * sizeof(float)); }

inline __m256i to_f16(__m512 v) {
  // F16C-style rounding to nearest even as the reference; NaNs become the canonical quiet NaN
  // with their sign, as the reference's conversion makes them.
  const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  const __m512i sign = _mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(static_cast<int>(0x80000000u)));
  v = _mm512_mask_mov_ps(v, nan, _mm512_castsi512_ps(_mm512_or_si512(sign, _mm512_set1_epi32(0x7fc00000))));
  return _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT);
}

void quantize_f16(const float* x, void* dst, int64_t n) {
  auto* out = static_cast<uint8_t*>(dst);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 2 * i), to_f16(_mm512_loadu_ps(x + i)));
  if (i < n) {
    const auto m = static_cast<__mmask16>((1u << (n - i)) - 1u);
    _mm256_mask_storeu_epi16(out + 2 * i, m, to_f16(_mm512_maskz_loadu_ps(m, x + i)));
  }
}

inline __m256i to_bf16(__m512 v) {
  // Integer rounding to nearest even, exactly as the reference (vcvtneps2bf16 would flush
  // denormals); NaNs stay NaN with the quiet bit set.
  const __m512i bits = _mm512_castps_si512(v);
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
  __m512i r = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(bits, _mm512_set1_epi32(0x7fff)), lsb), 16);
  const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(bits, _mm512_set1_epi32(0x7fffffff)),
                                                _mm512_set1_epi32(0x7f800000));
  r = _mm512_mask_or_epi32(r, nan, _mm512_srli_epi32(bits, 16), _mm512_set1_epi32(0x40));
  return _mm512_cvtepi32_epi16(r);
}

void quantize_bf16(const float* x, void* dst, int64_t n) {
  auto* out = static_cast<uint8_t*>(dst);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 2 * i), to_bf16(_mm512_loadu_ps(x + i)));
  if (i < n) {
    const auto m = static_cast<__mmask16>((1u << (n - i)) - 1u);
    _mm256_mask_storeu_epi16(out + 2 * i, m, to_bf16(_mm512_maskz_loadu_ps(m, x + i)));
  }
}

constexpr int64_t kRowChunk = 16;

// ---- element types: a slice of kStep elements as an operand, and the multiply-accumulate ----

struct F32 {
  using V = __m512;
  static constexpr int kStep = 16;
  static constexpr size_t kSize = 4;
  static V load(const uint8_t* p) { return _mm512_loadu_ps(p); }
  static V load_part(const uint8_t* p, int64_t count) {
    return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << count) - 1u), p);
  }
  static __m512 madd(__m512 acc, V a, V b) { return _mm512_fmadd_ps(a, b, acc); }
};
struct F16 {
  using V = __m512;
  static constexpr int kStep = 16;
  static constexpr size_t kSize = 2;
  static V load(const uint8_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  static V load_part(const uint8_t* p, int64_t count) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(static_cast<__mmask16>((1u << count) - 1u), p));
  }
  static __m512 madd(__m512 acc, V a, V b) { return _mm512_fmadd_ps(a, b, acc); }
};
struct BF16 {
  using V = __m512i;
  static constexpr int kStep = 32;
  static constexpr size_t kSize = 2;
  static V load(const uint8_t* p) { return _mm512_loadu_si512(p); }
  static V load_part(const uint8_t* p, int64_t count) {
    return _mm512_maskz_loadu_epi16(static_cast<__mmask32>((1ull << count) - 1u), p);
  }
  // Pairs of bf16 products summed into each f32 lane.
  static __m512 madd(__m512 acc, V a, V b) { return _mm512_dpbf16_ps(acc, (__m512bh)a, (__m512bh)b); }
};

// How activations are read: in the weight's format (X = W), or for F16 weights already widened
// to f32 (X = F32: the same values, so the same products).
template <class W, class X>
concept SameStep = W::kStep == X::kStep && std::is_same_v<typename W::V, typename X::V>;

// Where tile row i (of R) finds byte o of its weights. As stored: R rows side by side are R
// streams a row apart, which the hardware prefetchers follow poorly (one core read F16 rows from
// DRAM at 20.6 GB/s, 102 in L2), so each line is prefetched from the rows whole tiles below.
template <int R>
struct RowsAsStored {
  const uint8_t* wr[R];
  size_t prefetch_distance;
  RowsAsStored(const uint8_t* w, size_t row_bytes, int64_t r) : prefetch_distance(whole_tiles_ahead(R * row_bytes)) {
    for (int i = 0; i < R; ++i) wr[i] = w + static_cast<size_t>(r + i) * row_bytes;
  }
  const uint8_t* at(int i, size_t o) const { return wr[i] + o; }
  void prefetch(int i, size_t o) const { _mm_prefetch(reinterpret_cast<const char*>(wr[i] + o + prefetch_distance), _MM_HINT_T0); }
};

// Packed at load: four-row interleaved (row_streams.h) in 64-byte pieces, so a four-row tile
// reads one sequential stream (F16 from DRAM: 27 GB/s per core as stored, with prefetching,
// against 36 for plain reads). Steps never straddle two pieces: whole steps are 32 or 64 bytes at
// multiples of their size, and the partial step at the row end lies within its piece.
using Interleave = FourRowInterleave<64>;

struct RowsInterleaved {
  const uint8_t* quad;
  size_t whole, tail;  // per row: bytes in 64-byte pieces, then the rest
  int first;           // the quad row of tile row 0
  RowsInterleaved(const uint8_t* w, size_t row_bytes, int64_t r) : RowsInterleaved(Interleave(row_bytes), w, r) {}
  RowsInterleaved(const Interleave& layout, const uint8_t* w, int64_t r)
      : quad(layout.quad_of(w, r)), whole(layout.whole), tail(layout.tail), first(static_cast<int>(r % 4)) {}
  const uint8_t* at(int i, size_t o) const { return interleaved_at<64>(quad, whole, tail, first + i, o); }
  void prefetch(int i, size_t o) const { _mm_prefetch(reinterpret_cast<const char*>(at(i, o) + kPrefetchDistance), _MM_HINT_T0); }
};

void pack_interleaved(const uint8_t* w, size_t row_bytes, int64_t, int64_t rows, uint8_t* dst) {
  Interleave{row_bytes}.pack(w, rows, dst);
}

void unpack_interleaved_row(const uint8_t* packed, size_t row_bytes, int64_t, int64_t r, uint8_t* dst) {
  Interleave{row_bytes}.unpack_row(packed, r, dst);
}

// Rows r..r+R-1 x T tokens (activation rows xr[t], outputs yr[t]): `full` whole steps, then the
// partial step of `rest` elements (the row end) when rest > 0.
template <class W, class X, int R, int T, class Rows>
  requires SameStep<W, X>
void tile(const Rows& rows, const uint8_t* const* xr, float* const* yr, int64_t r, int64_t full, int64_t rest) {
  __m512 acc[R][T];
  for (int i = 0; i < R; ++i) {
    for (int t = 0; t < T; ++t) acc[i][t] = _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < full; ++k) {
    typename X::V xv[T];
    for (int t = 0; t < T; ++t) xv[t] = X::load(xr[t] + static_cast<size_t>(k) * X::kStep * X::kSize);
    const size_t o = static_cast<size_t>(k) * W::kStep * W::kSize;
    for (int i = 0; i < R; ++i) {
      if (o % 64 == 0) rows.prefetch(i, o);
      const typename W::V wv = W::load(rows.at(i, o));
      for (int t = 0; t < T; ++t) acc[i][t] = W::madd(acc[i][t], wv, xv[t]);
    }
  }
  if (rest) {
    typename X::V xv[T];
    for (int t = 0; t < T; ++t) xv[t] = X::load_part(xr[t] + static_cast<size_t>(full) * X::kStep * X::kSize, rest);
    for (int i = 0; i < R; ++i) {
      const typename W::V wv = W::load_part(rows.at(i, static_cast<size_t>(full) * W::kStep * W::kSize), rest);
      for (int t = 0; t < T; ++t) acc[i][t] = W::madd(acc[i][t], wv, xv[t]);
    }
  }
  for (int i = 0; i < R; ++i) {
    for (int t = 0; t < T; ++t) yr[t][r + i] = _mm512_reduce_add_ps(acc[i][t]);
  }
}

// Rows [rc, rc_end), T tokens; four-row tiles start at multiples of 4 (a packed quad).
template <class W, class X, int T, bool kPacked>
void rows_tile(const uint8_t* w, size_t row_bytes, const uint8_t* const* xr, float* const* yr, int64_t rc,
               int64_t rc_end, int64_t full, int64_t rest) {
  using Rows4 = std::conditional_t<kPacked, RowsInterleaved, RowsAsStored<4>>;
  using Rows1 = std::conditional_t<kPacked, RowsInterleaved, RowsAsStored<1>>;
  int64_t r = rc;
  for (; r % 4 != 0 && r < rc_end; ++r) tile<W, X, 1, T>(Rows1(w, row_bytes, r), xr, yr, r, full, rest);
  for (; r + 4 <= rc_end; r += 4) tile<W, X, 4, T>(Rows4(w, row_bytes, r), xr, yr, r, full, rest);
  for (; r < rc_end; ++r) tile<W, X, 1, T>(Rows1(w, row_bytes, r), xr, yr, r, full, rest);
}

// Token groups of up to kGroup share each weight slice; rows in chunks of kRowChunk, so a chunk
// stays in cache while every token group passes over it.
template <class W, class X, int kGroup, bool kPacked>
void gemm_rows(const uint8_t* w, size_t row_bytes, int64_t n, const uint8_t* x, size_t x_stride, int64_t n_tokens,
               float* y, size_t y_stride, int64_t row_begin, int64_t row_end) {
  const int64_t full = n / W::kStep, rest = n - full * W::kStep;
  for (int64_t rc = row_begin; rc < row_end; rc += kRowChunk) {
    const int64_t rc_end = rc + kRowChunk < row_end ? rc + kRowChunk : row_end;
    for (int64_t t0 = 0; t0 < n_tokens; t0 += kGroup) {
      const int tt = n_tokens - t0 < kGroup ? static_cast<int>(n_tokens - t0) : kGroup;
      const uint8_t* xr[kGroup];
      float* yr[kGroup];
      for (int t = 0; t < tt; ++t) {
        xr[t] = x + static_cast<size_t>(t0 + t) * x_stride;
        yr[t] = y + static_cast<size_t>(t0 + t) * y_stride;
      }
      switch (tt) {
#define ANYCHIP_ROWS(T) \
  case T: if constexpr (T <= kGroup) rows_tile<W, X, T, kPacked>(w, row_bytes, xr, yr, rc, rc_end, full, rest); break;
        ANYCHIP_ROWS(1) ANYCHIP_ROWS(2) ANYCHIP_ROWS(3) ANYCHIP_ROWS(4) ANYCHIP_ROWS(5) ANYCHIP_ROWS(6)
#undef ANYCHIP_ROWS
        default: break;
      }
    }
  }
}

// kPacked: w is the four-row interleaved copy (pack_interleaved); same arithmetic, same bits.
template <class F, bool kPacked = false>
void gemm(const uint8_t* w, size_t row_bytes, int64_t n, const uint8_t* x, size_t x_stride, int64_t n_tokens, float* y,
          size_t y_stride, int64_t row_begin, int64_t row_end) {
  if (row_end <= row_begin || n_tokens <= 0) return;
  if constexpr (std::is_same_v<F, F16>) {
    if (n_tokens > 4) {
      // Widen the activations once rather than in every tile.
      auto* xf = static_cast<float*>(std::malloc(sizeof(float) * static_cast<size_t>(n * n_tokens)));
      if (!xf) std::abort();
      for (int64_t t = 0; t < n_tokens; ++t) {
        const uint8_t* src = x + static_cast<size_t>(t) * x_stride;
        float* dst = xf + t * n;
        int64_t i = 0;
        for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, F16::load(src + 2 * i));
        if (i < n) _mm512_mask_storeu_ps(dst + i, static_cast<__mmask16>((1u << (n - i)) - 1u), F16::load_part(src + 2 * i, n - i));
      }
      gemm_rows<F16, F32, 6, kPacked>(w, row_bytes, n, reinterpret_cast<const uint8_t*>(xf), sizeof(float) * static_cast<size_t>(n),
                          n_tokens, y, y_stride, row_begin, row_end);
      std::free(xf);
      return;
    }
  }
  if (n_tokens > 4) {
    gemm_rows<F, F, 6, kPacked>(w, row_bytes, n, x, x_stride, n_tokens, y, y_stride, row_begin, row_end);
  } else {
    gemm_rows<F, F, 4, kPacked>(w, row_bytes, n, x, x_stride, n_tokens, y, y_stride, row_begin, row_end);
  }
}

}  // namespace

FloatTable float_avx512_table() {
  return {quantize_f32, quantize_f16, quantize_bf16, gemm<F32>, gemm<F16>, gemm<BF16>,
          {pack_interleaved, gemm<F32, true>, unpack_interleaved_row},
          {pack_interleaved, gemm<F16, true>, unpack_interleaved_row},
          {pack_interleaved, gemm<BF16, true>, unpack_interleaved_row}};
}

}  // namespace anychip::cpu
