// K-quant x Q8_K kernels for AVX-512 with VNNI (F/BW/VL/DQ/VNNI). See kquant_common.h for the
// arithmetic. Everything is in an anonymous namespace and uses only intrinsics and raw pointers,
// so no AVX-512 copy of a shared inline function can end up in generic code.
//
// Two paths:
//  - few tokens (generation): one weight row at a time, each super-block unpacked once into
//    registers as unsigned bytes in element order and used for every token: vpmaddubsw against
//    the activation bytes, then vpdpwssd with the per-16 scales.
//  - many tokens (prompt): 16 weight rows at a time, one row per 32-bit lane. A super-block of
//    the 16 rows is unpacked and transposed so that each zmm holds 4 consecutive quants of all
//    16 rows; vpdpbusd against 4 activation bytes broadcast from memory then adds 64 products
//    per instruction, and each sub-block's sums get their scale with one vpmulld. The unpacked
//    tile stays in L1 and serves every token.
// GCC 12 reports its own intrinsics' deliberately undefined temporaries (GCC PR 105593).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "backend/cpu/kernels/kquant_common.h"
#include "backend/cpu/kernels/kquant_x86_scales.h"
#include "backend/cpu/kernels/packed_layout.h"
#include "backend/cpu/kernels/row_streams.h"

namespace anychip::cpu::kquant {
namespace {

constexpr int kQK = 256;
constexpr int kQ8Bytes = 292;  // float d, int8 qs[256], int16 bsums[16]
constexpr int kQ8Qs = 4;
constexpr int kQ8Bsums = 260;
// From this many tokens on, the 16-row tiles pay off.
constexpr int64_t kManyTokens = 4;

// The unpacking helpers run once per super-block in the innermost loops; GCC stops inlining them
// once enough kernels are instantiated (Q6K::q out of line halved the Q6_K matvec's in-cache
// speed), so they are forced inline.
#define KQ_INLINE inline __attribute__((always_inline))

inline float half_to_float(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

inline int32_t load_i32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// ------------------------------------------------------------------------------------------
// Q8_K activations, byte-identical to quant::quantize_q8_k.

void quantize_q8_k(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<uint8_t*>(dst);
  const __m512 sign_off = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK, y += kQ8Bytes) {
    __m512 v[16];
    __m512 amax = _mm512_setzero_ps();
    for (int j = 0; j < 16; ++j) {
      v[j] = _mm512_loadu_ps(x + 16 * j);
      // max(|x|, amax) returns amax when x is NaN, as the reference's `a > amax` skips it.
      amax = _mm512_max_ps(_mm512_and_ps(v[j], sign_off), amax);
    }
    const float am = _mm512_reduce_max_ps(amax);
    if (!(am > 0.0f)) {
      std::memset(y, 0, kQ8Bytes);
      continue;
    }
    // The reference keeps the first element whose |x| is the maximum.
    const __m512 amv = _mm512_set1_ps(am);
    float max = 0;
    for (int j = 0; j < 16; ++j) {
      const __mmask16 hit = _mm512_cmp_ps_mask(_mm512_and_ps(v[j], sign_off), amv, _CMP_EQ_OQ);
      if (hit) {
        max = x[16 * j + __builtin_ctz(hit)];
        break;
      }
    }
    const float iscale = -127.f / max;
    const __m512 is = _mm512_set1_ps(iscale);
    const __m512 magic = _mm512_set1_ps(12582912.f);
    const __m512i mant = _mm512_set1_epi32(0x007fffff);
    const __m512i bias = _mm512_set1_epi32(0x00400000);
    const __m512i q127 = _mm512_set1_epi32(127);
    int16_t bsums[16];
    for (int j = 0; j < 16; ++j) {
      // nearest_int(iscale * x): product and sum rounded separately (never fused).
      const __m512 prod = _mm512_mul_round_ps(is, v[j], _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      const __m512 shifted = _mm512_add_round_ps(prod, magic, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      __m512i q = _mm512_sub_epi32(_mm512_and_si512(_mm512_castps_si512(shifted), mant), bias);
      q = _mm512_min_epi32(q, q127);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(y + kQ8Qs + 16 * j), _mm512_cvtepi32_epi8(q));
      // Sums of int8 values: take them from the stored bytes so garbage inputs wrap as int8.
      bsums[j] = static_cast<int16_t>(
          _mm512_reduce_add_epi32(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y + kQ8Qs + 16 * j)))));
    }
    std::memcpy(y + kQ8Bsums, bsums, sizeof bsums);
    const float d = 1 / iscale;
    std::memcpy(y, &d, 4);
  }
}

// ------------------------------------------------------------------------------------------
// Per-type unpacking. q(): the super-block's 256 unsigned quants in element order as four zmm.
// scales(): per-16 scales sc and integers m (see kquant_common.h), d and dmin.


// Bytes 0..31 of the result come from the low half of a 32-byte source, 32..63 likewise: the
// same 32 bytes in both halves of a zmm.
KQ_INLINE __m512i load_twice(const uint8_t* p) {
  return _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// Per-byte shift counts as 16-bit lanes: `lo` for the first 32 bytes, `hi` for the last 32.
KQ_INLINE __m512i two_counts(int lo, int hi) {
  return _mm512_inserti64x4(_mm512_set1_epi16(static_cast<int16_t>(lo)), _mm256_set1_epi16(static_cast<int16_t>(hi)), 1);
}

KQ_INLINE __m512i two_bytes(int lo, int hi) {
  return _mm512_inserti64x4(_mm512_set1_epi8(static_cast<char>(lo)), _mm256_set1_epi8(static_cast<char>(hi)), 1);
}

struct Q2K {
  static constexpr int kBytes = 84;
  static constexpr bool kHasMin = true;
  static constexpr int kSub = 16;
  KQ_INLINE static void q(const uint8_t* b, __m512i out[4]) {
    const __m512i three = _mm512_set1_epi8(3);
    for (int c = 0; c < 4; ++c) {
      const __m512i qq = load_twice(b + 16 + 32 * (c / 2));
      const int k = 2 * (c % 2);
      out[c] = _mm512_and_si512(_mm512_srlv_epi16(qq, two_counts(2 * k, 2 * k + 2)), three);
    }
  }
  KQ_INLINE static void scales(const uint8_t* b, Scales& s) {
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b));
    const __m128i m4 = _mm_set1_epi8(0x0F);
    s.sc = _mm256_cvtepu8_epi16(_mm_and_si128(raw, m4));
    s.m = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(raw, 4), m4));
    s.d = half_to_float(b + 80);
    s.dmin = half_to_float(b + 82);
  }
};

struct Q3K {
  static constexpr int kBytes = 110;
  static constexpr bool kHasMin = false;
  static constexpr int kSub = 16;
  KQ_INLINE static void q(const uint8_t* b, __m512i out[4]) {
    const __m512i three = _mm512_set1_epi8(3);
    const __m512i four = _mm512_set1_epi8(4);
    const __m512i hm = load_twice(b);
    for (int c = 0; c < 4; ++c) {
      const __m512i qq = load_twice(b + 32 + 32 * (c / 2));
      const int k = 2 * (c % 2);
      const __m512i low = _mm512_and_si512(_mm512_srlv_epi16(qq, two_counts(2 * k, 2 * k + 2)), three);
      const int bit = 4 * (c / 2) + k;  // hmask bit of the first 32 elements of this chunk
      const __mmask64 high = _mm512_test_epi8_mask(hm, two_bytes(1 << bit, 1 << (bit + 1)));
      out[c] = _mm512_mask_add_epi8(low, high, low, four);
    }
  }
  KQ_INLINE static void scales(const uint8_t* b, Scales& s) {
    // Low 4 bits: bytes 0..7 (low nibble: groups 0..7, high: 8..15); high 2 bits: bits 2*(g/4)
    // of byte 8 + g%4.
    const uint8_t* q = b + 96;
    uint64_t low8;
    uint32_t high4;
    std::memcpy(&low8, q, 8);
    std::memcpy(&high4, q + 8, 4);
    const __m128i lo = _mm_cvtsi64_si128(static_cast<long long>(low8));
    const __m128i m4 = _mm_set1_epi8(0x0F);
    const __m128i low = _mm_unpacklo_epi64(_mm_and_si128(lo, m4), _mm_and_si128(_mm_srli_epi16(lo, 4), m4));
    const __m128i high = _mm_and_si128(_mm_srlv_epi32(_mm_set1_epi32(static_cast<int>(high4)), _mm_setr_epi32(0, 2, 4, 6)),
                                       _mm_set1_epi8(3));
    const __m128i biased = _mm_or_si128(low, _mm_slli_epi16(high, 4));
    s.sc = _mm256_sub_epi16(_mm256_cvtepu8_epi16(biased), _mm256_set1_epi16(32));
    s.m = _mm256_mullo_epi16(s.sc, _mm256_set1_epi16(-4));
    s.d = half_to_float(b + 108);
    s.dmin = 0;
  }
};

KQ_INLINE void q4_nibbles(const uint8_t* qs, __m512i out[4]) {
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  for (int h = 0; h < 2; ++h) {
    const __m512i raw = _mm512_loadu_si512(qs + 64 * h);
    const __m512i lo = _mm512_and_si512(raw, m4);                         // sub-blocks 4h, 4h+2
    const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(raw, 4), m4);  // sub-blocks 4h+1, 4h+3
    out[2 * h] = _mm512_shuffle_i64x2(lo, hi, 0x44);
    out[2 * h + 1] = _mm512_shuffle_i64x2(lo, hi, 0xEE);
  }
}

struct Q4K {
  static constexpr int kBytes = 144;
  static constexpr bool kHasMin = true;
  static constexpr int kSub = 32;
  KQ_INLINE static void q(const uint8_t* b, __m512i out[4]) { q4_nibbles(b + 16, out); }
  KQ_INLINE static void scales(const uint8_t* b, Scales& s) {
    k4_scales(b + 4, s);
    s.d = half_to_float(b);
    s.dmin = half_to_float(b + 2);
  }
};

struct Q5K {
  static constexpr int kBytes = 176;
  static constexpr bool kHasMin = true;
  static constexpr int kSub = 32;
  KQ_INLINE static void q(const uint8_t* b, __m512i out[4]) {
    q4_nibbles(b + 48, out);
    const __m512i qh = load_twice(b + 16);
    const __m512i sixteen = _mm512_set1_epi8(16);
    for (int c = 0; c < 4; ++c) {
      const __mmask64 high = _mm512_test_epi8_mask(qh, two_bytes(1 << (2 * c), 1 << (2 * c + 1)));
      out[c] = _mm512_mask_add_epi8(out[c], high, out[c], sixteen);
    }
  }
  KQ_INLINE static void scales(const uint8_t* b, Scales& s) {
    k4_scales(b + 4, s);
    s.d = half_to_float(b);
    s.dmin = half_to_float(b + 2);
  }
};

struct Q6K {
  static constexpr int kBytes = 210;
  static constexpr bool kHasMin = false;
  static constexpr int kSub = 16;
  KQ_INLINE static void q(const uint8_t* b, __m512i out[4]) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m512i m30 = _mm512_set1_epi8(0x30);
    for (int h = 0; h < 2; ++h) {
      const __m512i ql = _mm512_loadu_si512(b + 64 * h);  // [A | B]: elements 0..31, 32..63 low
      const __m512i qh = load_twice(b + 128 + 32 * h);
      const __m512i lo = _mm512_and_si512(ql, m4);
      const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(ql, 4), m4);
      // k = 0, 1: bits 0-1 / 2-3 of qh to bits 4-5; k = 2, 3: bits 4-5 / 6-7.
      const __m512i h01 = _mm512_sllv_epi16(qh, two_counts(4, 2));
      const __m512i h23 = _mm512_srlv_epi16(qh, two_counts(0, 2));
      out[2 * h] = _mm512_ternarylogic_epi32(lo, h01, m30, 0xF8);  // lo | (h01 & 0x30)
      out[2 * h + 1] = _mm512_ternarylogic_epi32(hi, h23, m30, 0xF8);
    }
  }
  KQ_INLINE static void scales(const uint8_t* b, Scales& s) {
    s.sc = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 192)));
    s.m = _mm256_mullo_epi16(s.sc, _mm256_set1_epi16(-32));
    s.d = half_to_float(b + 208);
    s.dmin = 0;
  }
};

// ------------------------------------------------------------------------------------------
// Few tokens: one row at a time, the unpacked super-block used for NT tokens.

// i16 scale vector for chunk c (elements 64c..64c+63 after vpmaddubsw: lane p covers elements
// 64c+2p, 64c+2p+1, i.e. group 4c + p/8).
KQ_INLINE __m512i chunk_scales(__m512i sc16, int c) {
  alignas(64) static const int16_t idx[4][32] = {
      {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3},
      {4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7},
      {8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9, 10, 10, 10, 10, 10, 10, 10, 10, 11, 11, 11, 11, 11, 11, 11, 11},
      {12, 12, 12, 12, 12, 12, 12, 12, 13, 13, 13, 13, 13, 13, 13, 13,
       14, 14, 14, 14, 14, 14, 14, 14, 15, 15, 15, 15, 15, 15, 15, 15}};
  return _mm512_permutexvar_epi16(_mm512_load_si512(idx[c]), sc16);
}

// Batch invariance: both paths compute, per super-block, the exact integers sumi and summ of
// kquant_common.h and then y = fma(sumi, d_x * d, y) followed by y = -(summ * (d_x * dmin)) + y
// (one fused op each), super-block after super-block. Here the lanes' integer partial sums are
// reduced exactly before they reach floats, so the float ops are those of tile_tokens, whose
// lanes are rows; a token thus gets the same bits whichever path its batch size picks.
//
// The weights are read as one sequential stream; prefetching kPrefetchDistance (row_streams.h)
// ahead of it keeps enough lines in flight to cover DRAM latency (one row ahead was too little: a
// Q6_K matvec streamed at 26 GB/s per core with it and 37 GB/s with 8 KiB).
KQ_INLINE void prefetch_block_ahead(const uint8_t* blk, size_t bytes, size_t distance = kPrefetchDistance) {
  const char* pf = reinterpret_cast<const char*>(blk) + distance;
  for (size_t o = 0; o < bytes; o += 64) _mm_prefetch(pf + o, _MM_HINT_T0);
}

// Exact int32 sums of four vectors, one per lane of the result: one shuffle tree for all four
// instead of four separate reductions.
KQ_INLINE __m128i reduce4_epi32(__m512i a, __m512i b, __m512i c, __m512i d) {
  const __m512i ab = _mm512_add_epi32(_mm512_unpacklo_epi32(a, b), _mm512_unpackhi_epi32(a, b));
  const __m512i cd = _mm512_add_epi32(_mm512_unpacklo_epi32(c, d), _mm512_unpackhi_epi32(c, d));
  const __m512i abcd = _mm512_add_epi32(_mm512_unpacklo_epi64(ab, cd), _mm512_unpackhi_epi64(ab, cd));
  const __m256i half = _mm256_add_epi32(_mm512_castsi512_si256(abcd), _mm512_extracti64x4_epi64(abcd, 1));
  return _mm_add_epi32(_mm256_castsi256_si128(half), _mm256_extracti128_si256(half, 1));
}

KQ_INLINE __m128i reduce4_epi32(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i ab = _mm256_add_epi32(_mm256_unpacklo_epi32(a, b), _mm256_unpackhi_epi32(a, b));
  const __m256i cd = _mm256_add_epi32(_mm256_unpacklo_epi32(c, d), _mm256_unpackhi_epi32(c, d));
  const __m256i abcd = _mm256_add_epi32(_mm256_unpacklo_epi64(ab, cd), _mm256_unpackhi_epi64(ab, cd));
  return _mm_add_epi32(_mm256_castsi256_si128(abcd), _mm256_extracti128_si256(abcd, 1));
}

// Four rows r..r+3 at once, one row per lane of each token's accumulator: the float ops per
// lane are exactly those of the one-row loop below.
// block(i, b): super-block b of the i-th of the four rows; y receives rows y[0..3].
template <class K, int NT, class Block>
void four_rows_few_tokens(const Block& block, int64_t nb, const uint8_t* x, size_t x_stride, float* y,
                          size_t y_stride, size_t prefetch_distance) {
  __m128 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    __m512i sumi[NT][4];
    __m256i mm[NT][4];
    alignas(16) float d[4], dmin[4];
    for (int i = 0; i < 4; ++i) {
      const uint8_t* blk = block(i, b);
      prefetch_block_ahead(blk, K::kBytes, prefetch_distance);
      __m512i q[4];
      K::q(blk, q);
      Scales s;
      K::scales(blk, s);
      d[i] = s.d;
      dmin[i] = s.dmin;
      const __m512i sc16 = _mm512_castsi256_si512(s.sc);
      __m512i scv[4];
      for (int c = 0; c < 4; ++c) scv[c] = chunk_scales(sc16, c);
      for (int t = 0; t < NT; ++t) {
        const uint8_t* a = x + static_cast<size_t>(t) * x_stride + static_cast<size_t>(b) * kQ8Bytes;
        __m512i si = _mm512_setzero_si512();
        for (int c = 0; c < 4; ++c) {
          si = _mm512_dpwssd_epi32(si, _mm512_maddubs_epi16(q[c], _mm512_loadu_si512(a + kQ8Qs + 64 * c)), scv[c]);
        }
        const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + kQ8Bsums));
        if (K::kHasMin) {
          mm[t][i] = _mm256_madd_epi16(bs, s.m);
        } else {
          si = _mm512_dpwssd_epi32(si, _mm512_zextsi256_si512(bs), _mm512_zextsi256_si512(s.m));
        }
        sumi[t][i] = si;
      }
    }
    const __m128 dv = _mm_load_ps(d), dminv = _mm_load_ps(dmin);
    for (int t = 0; t < NT; ++t) {
      float dx;
      std::memcpy(&dx, x + static_cast<size_t>(t) * x_stride + static_cast<size_t>(b) * kQ8Bytes, 4);
      const __m128 dxv = _mm_set1_ps(dx);
      const __m128 si = _mm_cvtepi32_ps(reduce4_epi32(sumi[t][0], sumi[t][1], sumi[t][2], sumi[t][3]));
      acc[t] = _mm_fmadd_ps(si, _mm_mul_ps(dxv, dv), acc[t]);
      if (K::kHasMin) {
        const __m128 summ = _mm_cvtepi32_ps(reduce4_epi32(mm[t][0], mm[t][1], mm[t][2], mm[t][3]));
        acc[t] = _mm_fnmadd_ps(summ, _mm_mul_ps(dxv, dminv), acc[t]);
      }
    }
  }
  for (int t = 0; t < NT; ++t) _mm_storeu_ps(y + static_cast<size_t>(t) * y_stride, acc[t]);
}

template <class K, int NT>
void rows_few_tokens(const uint8_t* w, size_t row_bytes, int64_t nb, const uint8_t* x, size_t x_stride, float* y,
                     size_t y_stride, int64_t row_begin, int64_t row_end) {
  int64_t r = row_begin;
  // Four rows as stored (an FFN down matrix of Qwen2-0.5B has 3990-byte Q6_K rows): 8 KiB ahead
  // of each row would land inside the next four rows, leaving the rest to demand misses.
  const size_t distance = whole_tiles_ahead(4 * row_bytes);
  for (; r + 4 <= row_end; r += 4) {
    const auto block = [&](int i, int64_t b) { return w + static_cast<size_t>(r + i) * row_bytes + b * K::kBytes; };
    four_rows_few_tokens<K, NT>(block, nb, x, x_stride, y + r, y_stride, distance);
  }
  for (; r < row_end; ++r) {
    const uint8_t* row = w + static_cast<size_t>(r) * row_bytes;
    __m128 acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = _mm_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = row + b * K::kBytes;
      prefetch_block_ahead(blk, K::kBytes);
      __m512i q[4];
      K::q(blk, q);
      Scales s;
      K::scales(blk, s);
      const __m512i sc16 = _mm512_castsi256_si512(s.sc);
      const __m256i m16 = s.m;
      __m512i scv[4];
      for (int c = 0; c < 4; ++c) scv[c] = chunk_scales(sc16, c);
      for (int t = 0; t < NT; ++t) {
        const uint8_t* a = x + static_cast<size_t>(t) * x_stride + static_cast<size_t>(b) * kQ8Bytes;
        __m512i sumi = _mm512_setzero_si512();
        for (int c = 0; c < 4; ++c) {
          const __m512i p = _mm512_maddubs_epi16(q[c], _mm512_loadu_si512(a + kQ8Qs + 64 * c));
          sumi = _mm512_dpwssd_epi32(sumi, p, scv[c]);
        }
        const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + kQ8Bsums));
        float dx;
        std::memcpy(&dx, a, 4);
        if (!K::kHasMin) sumi = _mm512_dpwssd_epi32(sumi, _mm512_zextsi256_si512(bs), _mm512_zextsi256_si512(m16));
        const float si = static_cast<float>(_mm512_reduce_add_epi32(sumi));
        acc[t] = _mm_fmadd_ss(_mm_set_ss(si), _mm_set_ss(dx * s.d), acc[t]);
        if (K::kHasMin) {
          const __m256i mm = _mm256_madd_epi16(bs, m16);
          const __m128i m4 = _mm_add_epi32(_mm256_castsi256_si128(mm), _mm256_extracti128_si256(mm, 1));
          const __m128i m2 = _mm_add_epi32(m4, _mm_unpackhi_epi64(m4, m4));
          const int32_t summ = _mm_cvtsi128_si32(_mm_add_epi32(m2, _mm_shuffle_epi32(m2, 1)));
          acc[t] = _mm_fnmadd_ss(_mm_set_ss(static_cast<float>(summ)), _mm_set_ss(dx * s.dmin), acc[t]);
        }
      }
    }
    for (int t = 0; t < NT; ++t) y[static_cast<size_t>(t) * y_stride + r] = _mm_cvtss_f32(acc[t]);
  }
}

// ------------------------------------------------------------------------------------------
// Many tokens: tiles of 16 rows.

struct Tile {
  alignas(64) uint8_t w[64 * 64];  // dword k (elements 4k..4k+3) of rows 0..15: w[64k + 4r]
  __m512i sc[16];                  // scale of sub-block j for each row (j < 256 / kSub)
  __m512i m[8];                    // int16 pair (m[2i], m[2i+1]) for each row
  __m512 d;
  __m512 dmin;
};

inline void transpose4(__m512i& a, __m512i& b, __m512i& c, __m512i& d) {
  const __m512i t0 = _mm512_unpacklo_epi32(a, b), t1 = _mm512_unpackhi_epi32(a, b);
  const __m512i t2 = _mm512_unpacklo_epi32(c, d), t3 = _mm512_unpackhi_epi32(c, d);
  a = _mm512_unpacklo_epi64(t0, t2);
  b = _mm512_unpackhi_epi64(t0, t2);
  c = _mm512_unpacklo_epi64(t1, t3);
  d = _mm512_unpackhi_epi64(t1, t3);
}

// rows[stride * r] holds 64 bytes (16 dwords) of row r; out[k] gets dword k of every row.
inline void transpose16(const __m512i* rows, int stride, __m512i* out) {
  __m512i v[16];
  for (int r = 0; r < 16; ++r) v[r] = _mm512_load_si512(rows + stride * r);
  // After this, lane L of v[4a + j] = dword 4L + j of rows 4a..4a+3.
  for (int a = 0; a < 4; ++a) transpose4(v[4 * a], v[4 * a + 1], v[4 * a + 2], v[4 * a + 3]);
  for (int j = 0; j < 4; ++j) {
    const __m512i p01lo = _mm512_shuffle_i32x4(v[j], v[4 + j], 0x44);
    const __m512i p01hi = _mm512_shuffle_i32x4(v[j], v[4 + j], 0xEE);
    const __m512i p23lo = _mm512_shuffle_i32x4(v[8 + j], v[12 + j], 0x44);
    const __m512i p23hi = _mm512_shuffle_i32x4(v[8 + j], v[12 + j], 0xEE);
    _mm512_store_si512(out + 0 + j, _mm512_shuffle_i32x4(p01lo, p23lo, 0x88));
    _mm512_store_si512(out + 4 + j, _mm512_shuffle_i32x4(p01lo, p23lo, 0xDD));
    _mm512_store_si512(out + 8 + j, _mm512_shuffle_i32x4(p01hi, p23hi, 0x88));
    _mm512_store_si512(out + 12 + j, _mm512_shuffle_i32x4(p01hi, p23hi, 0xDD));
  }
}

// block(r): the super-block of row r of the tile (r < nr).
template <class K, class Block>
void unpack_tile(const Block& block, int nr, Tile& tile) {
  alignas(64) __m512i rows[16 * 4];
  alignas(64) __m512i scales[16];  // row r: sc pairs (8 dwords) | m pairs (8 dwords)
  alignas(64) float d[16], dmin[16];
  for (int r = 0; r < 16; ++r) {
    if (r < nr) {
      const uint8_t* blk = block(r);
      K::q(blk, rows + 4 * r);
      Scales s;
      K::scales(blk, s);
      scales[r] = _mm512_inserti64x4(_mm512_castsi256_si512(s.sc), s.m, 1);
      d[r] = s.d;
      dmin[r] = s.dmin;
    } else {
      for (int c = 0; c < 4; ++c) rows[4 * r + c] = _mm512_setzero_si512();
      scales[r] = _mm512_setzero_si512();
      d[r] = dmin[r] = 0;
    }
  }
  auto* out = reinterpret_cast<__m512i*>(tile.w);
  for (int c = 0; c < 4; ++c) transpose16(rows + c, 4, out + 16 * c);
  // pairs[i]: int16 pair (sc[2i], sc[2i+1]) of every row; pairs[8 + i]: (m[2i], m[2i+1]).
  alignas(64) __m512i pairs[16];
  transpose16(scales, 1, pairs);
  for (int i = 0; i < 8; ++i) {
    if (K::kSub == 32) {
      tile.sc[i] = _mm512_srai_epi32(pairs[i], 16);  // both halves hold the sub-block's scale
    } else {
      tile.sc[2 * i] = _mm512_srai_epi32(_mm512_slli_epi32(pairs[i], 16), 16);
      tile.sc[2 * i + 1] = _mm512_srai_epi32(pairs[i], 16);
    }
    tile.m[i] = pairs[8 + i];
  }
  tile.d = _mm512_load_ps(d);
  tile.dmin = _mm512_load_ps(dmin);
}

// Adds super-block b's contribution for NT tokens (activation blocks a[t]) to tot[t] (16 rows).
template <class K, int NT>
inline void tile_tokens(const Tile& tile, const uint8_t* const* a, float* tot) {
  constexpr int kDw = K::kSub / 4;  // dwords per sub-block
  const auto* wv = reinterpret_cast<const __m512i*>(tile.w);
  __m512i acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_si512();
  for (int j = 0; j < kQK / K::kSub; ++j) {
    __m512i part[NT];
    for (int t = 0; t < NT; ++t) part[t] = _mm512_setzero_si512();
    for (int k = 0; k < kDw; ++k) {
      const __m512i wk = _mm512_load_si512(wv + kDw * j + k);
      for (int t = 0; t < NT; ++t) {
        part[t] = _mm512_dpbusd_epi32(part[t], wk, _mm512_set1_epi32(load_i32(a[t] + kQ8Qs + 4 * (kDw * j + k))));
      }
    }
    const __m512i sc = tile.sc[j];
    for (int t = 0; t < NT; ++t) acc[t] = _mm512_add_epi32(acc[t], _mm512_mullo_epi32(part[t], sc));
  }
  const __m512 d = tile.d;
  if (K::kHasMin) {
    __m512i summ[NT];
    for (int t = 0; t < NT; ++t) summ[t] = _mm512_setzero_si512();
    for (int i = 0; i < 8; ++i) {
      const __m512i m = tile.m[i];
      for (int t = 0; t < NT; ++t) summ[t] = _mm512_dpwssd_epi32(summ[t], m, _mm512_set1_epi32(load_i32(a[t] + kQ8Bsums + 4 * i)));
    }
    const __m512 dmin = tile.dmin;
    for (int t = 0; t < NT; ++t) {
      float dx;
      std::memcpy(&dx, a[t], 4);
      const __m512 vdx = _mm512_set1_ps(dx);
      __m512 v = _mm512_loadu_ps(tot + 16 * t);
      v = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[t]), _mm512_mul_ps(d, vdx), v);
      v = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(summ[t]), _mm512_mul_ps(dmin, vdx), v);
      _mm512_storeu_ps(tot + 16 * t, v);
    }
  } else {
    for (int i = 0; i < 8; ++i) {
      const __m512i m = tile.m[i];
      for (int t = 0; t < NT; ++t) acc[t] = _mm512_dpwssd_epi32(acc[t], m, _mm512_set1_epi32(load_i32(a[t] + kQ8Bsums + 4 * i)));
    }
    for (int t = 0; t < NT; ++t) {
      float dx;
      std::memcpy(&dx, a[t], 4);
      __m512 v = _mm512_loadu_ps(tot + 16 * t);
      v = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[t]), _mm512_mul_ps(d, _mm512_set1_ps(dx)), v);
      _mm512_storeu_ps(tot + 16 * t, v);
    }
  }
}

// tile_tokens for g <= G tokens.
template <class K, int G>
inline void tile_group(int g, const Tile& tile, const uint8_t* const* a, float* tot) {
  if (g == G) {
    tile_tokens<K, G>(tile, a, tot);
  } else if constexpr (G > 1) {
    tile_group<K, G - 1>(g, tile, a, tot);
  }
}

// unpack(row0, nr, b, tile): super-block b of rows row0..row0+nr-1 into tile.
template <class K, class Unpack>
void rows_many_tokens(const Unpack& unpack, int64_t nb, const uint8_t* x, size_t x_stride, int64_t n_tokens, float* y,
                      size_t y_stride, int64_t row_begin, int64_t row_end) {
  constexpr int kTokenBlock = 256;
  constexpr int kGroup = 8;
  Tile tile;
  alignas(64) float tot[kTokenBlock * 16];
  for (int64_t row0 = row_begin; row0 < row_end; row0 += 16) {
    const int nr = row_end - row0 < 16 ? static_cast<int>(row_end - row0) : 16;
    for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokenBlock) {
      const int nt = n_tokens - t0 < kTokenBlock ? static_cast<int>(n_tokens - t0) : kTokenBlock;
      for (int i = 0; i < nt * 16; ++i) tot[i] = 0;
      for (int64_t b = 0; b < nb; ++b) {
        unpack(row0, nr, b, tile);
        for (int t = 0; t < nt; t += kGroup) {
          const uint8_t* a[kGroup];
          const int g = nt - t < kGroup ? nt - t : kGroup;
          for (int i = 0; i < g; ++i) a[i] = x + static_cast<size_t>(t0 + t + i) * x_stride + static_cast<size_t>(b) * kQ8Bytes;
          float* out = tot + 16 * t;
          tile_group<K, kGroup>(g, tile, a, out);
        }
      }
      for (int t = 0; t < nt; ++t) {
        for (int r = 0; r < nr; ++r) y[static_cast<size_t>(t0 + t) * y_stride + static_cast<size_t>(row0 + r)] = tot[16 * t + r];
      }
    }
  }
}

template <class K>
void gemm(const uint8_t* w, size_t row_bytes, int64_t n, const uint8_t* x, size_t x_stride, int64_t n_tokens, float* y,
          size_t y_stride, int64_t row_begin, int64_t row_end) {
  const int64_t nb = n / kQK;
  if (n_tokens >= kManyTokens) {
    const auto unpack = [&](int64_t row0, int nr, int64_t b, Tile& tile) {
      const auto block = [&](int r) { return w + static_cast<size_t>(row0 + r) * row_bytes + static_cast<size_t>(b) * K::kBytes; };
      unpack_tile<K>(block, nr, tile);
    };
    rows_many_tokens<K>(unpack, nb, x, x_stride, n_tokens, y, y_stride, row_begin, row_end);
    return;
  }
  for (int64_t t = 0; t < n_tokens; t += 3) {
    const uint8_t* xt = x + static_cast<size_t>(t) * x_stride;
    float* yt = y + static_cast<size_t>(t) * y_stride;
    switch (n_tokens - t) {
      case 1: rows_few_tokens<K, 1>(w, row_bytes, nb, xt, x_stride, yt, y_stride, row_begin, row_end); break;
      case 2: rows_few_tokens<K, 2>(w, row_bytes, nb, xt, x_stride, yt, y_stride, row_begin, row_end); break;
      default: rows_few_tokens<K, 3>(w, row_bytes, nb, xt, x_stride, yt, y_stride, row_begin, row_end); break;
    }
  }
}

// ------------------------------------------------------------------------------------------
// Q4_K and Q5_K packed at load (the bulk of Q4_K_M and Q5_K_M files). Per 16-row group and
// super-block, the rows' blocks are stored lane-major, lane r = row r:
//   [0, 2048)   32 zmm: dword k of the rows' qs (bytes 4k..4k+3; low nibbles are elements of
//               sub-block 2(k/8), high nibbles of sub-block 2(k/8)+1, at dword k%8 of each)
//   Q5_K only: 8 zmm: dword m of the rows' qh (bit s of byte l: the fifth bit of element l of
//               sub-block s, so qs dword k finds its bits in qh dword k%8, bits 2(k/8) and 2(k/8)+1)
//   then        3 zmm: the rows' 12 scale bytes as dwords u0, u1, u2
//   then        the rows' d, then their dmin (f16)
// so a super-block of 16 rows is read as one sequential stream with vector loads and no
// transposes, and the arithmetic is exactly tile_tokens' (bit-identical to gemm<Q4K> / gemm<Q5K>).
template <bool kFifthBit>
struct KPacked {
  static constexpr size_t kQh = 2048;                           // Q5_K's qh dwords
  static constexpr size_t kScales = kFifthBit ? 2560 : 2048;
  static constexpr size_t kD = kScales + 192, kDmin = kD + 32;
  static constexpr size_t kGroupBlock = kDmin + 32;
};
static_assert(KPacked<false>::kGroupBlock == 16 * Q4K::kBytes && KPacked<true>::kGroupBlock == 16 * Q5K::kBytes);

constexpr PackedLayout kQ4KLayout = {Q4K::kBytes, kQK, 0, {{16, 32, 0}, {4, 3, 2048}, {0, 0, 0}}, {{0, 2240}, {2, 2272}}};
constexpr PackedLayout kQ5KLayout = {Q5K::kBytes, kQK, 0, {{48, 32, 0}, {16, 8, 2048}, {4, 3, 2560}}, {{0, 2752}, {2, 2784}}};
static_assert(kQ4KLayout.group_block() == KPacked<false>::kGroupBlock && kQ5KLayout.group_block() == KPacked<true>::kGroupBlock);
static_assert(kQ4KLayout.halves[0].dst == static_cast<int>(KPacked<false>::kD) &&
              kQ5KLayout.halves[0].dst == static_cast<int>(KPacked<true>::kD));

void pack_q4k(const uint8_t* w, size_t row_bytes, int64_t n, int64_t rows, uint8_t* dst) {
  pack_rows(kQ4KLayout, w, row_bytes, n, rows, dst);
}
void unpack_row_q4k(const uint8_t* packed, size_t row_bytes, int64_t n, int64_t r, uint8_t* dst) {
  unpack_packed_row(kQ4KLayout, packed, row_bytes, n, r, dst);
}
void pack_q5k(const uint8_t* w, size_t row_bytes, int64_t n, int64_t rows, uint8_t* dst) {
  pack_rows(kQ5KLayout, w, row_bytes, n, rows, dst);
}
void unpack_row_q5k(const uint8_t* packed, size_t row_bytes, int64_t n, int64_t r, uint8_t* dst) {
  unpack_packed_row(kQ5KLayout, packed, row_bytes, n, r, dst);
}

// The 16 rows' sub-block scales sc[j] (int32 lanes) and their mins as int16 pairs (m, m), the
// form tile_tokens multiplies with the pairs of 16-element activation sums; u: the u0 vector.
KQ_INLINE void k_packed_scales(const uint8_t* u, __m512i* sc, __m512i* mpair) {
  const __m512i u0 = _mm512_loadu_si512(u), u1 = _mm512_loadu_si512(u + 64), u2 = _mm512_loadu_si512(u + 128);
  const __m512i m63 = _mm512_set1_epi32(63), m15 = _mm512_set1_epi32(15), m48 = _mm512_set1_epi32(48);
  __m512i m[8];
  for (int j = 0; j < 4; ++j) {
    sc[j] = _mm512_and_si512(_mm512_srli_epi32(u0, 8 * j), m63);
    m[j] = _mm512_and_si512(_mm512_srli_epi32(u1, 8 * j), m63);
    // Sub-blocks 4..7: low nibbles from u2, the top two bits from the high bits of u0 / u1.
    sc[4 + j] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(u2, 8 * j), m15),
                                _mm512_and_si512(_mm512_srli_epi32(u0, 8 * j + 2), m48));
    m[4 + j] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(u2, 8 * j + 4), m15),
                               _mm512_and_si512(_mm512_srli_epi32(u1, 8 * j + 2), m48));
  }
  for (int j = 0; j < 8; ++j) mpair[j] = _mm512_or_si512(m[j], _mm512_slli_epi32(m[j], 16));
}

inline __m512 halves16(const uint8_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// Bit kBit of every byte of v, moved to bit 4 (the fifth bit of a quant) and nothing else.
template <int kBit>
KQ_INLINE __m512i fifth_bit(__m512i v) {
  const __m512i m16 = _mm512_set1_epi8(0x10);
  // Whole-dword shifts carry bits across bytes, but only bit 4 of each byte survives the mask.
  if constexpr (kBit < 4) return _mm512_and_si512(_mm512_slli_epi32(v, 4 - kBit), m16);
  else if constexpr (kBit > 4) return _mm512_and_si512(_mm512_srli_epi32(v, kBit - 4), m16);
  else return _mm512_and_si512(v, m16);
}

// The unsigned quants of qs dword 8 * kH + i of a packed group: wl for its low nibbles, wh for
// its high ones (Q5_K: with their fifth bits from qh dword i).
template <bool kFifthBit, int kH>
KQ_INLINE void k_packed_quants(const uint8_t* blk, int i, __m512i& wl, __m512i& wh) {
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  const __m512i raw = _mm512_loadu_si512(blk + 64 * (8 * kH + i));
  if constexpr (kFifthBit) {
    const __m512i qh = _mm512_loadu_si512(blk + KPacked<true>::kQh + 64 * i);
    // (a & m4) | b: ternary-logic table 0xEC for (A, B, C) = (a, b, m4).
    wl = _mm512_ternarylogic_epi32(raw, fifth_bit<2 * kH>(qh), m4, 0xEC);
    wh = _mm512_ternarylogic_epi32(_mm512_srli_epi16(raw, 4), fifth_bit<2 * kH + 1>(qh), m4, 0xEC);
  } else {
    wl = _mm512_and_si512(raw, m4);
    wh = _mm512_and_si512(_mm512_srli_epi16(raw, 4), m4);
  }
}

template <bool kFifthBit, int kH>
KQ_INLINE void k_packed_tile_part(const uint8_t* blk, __m512i* out) {
  for (int i = 0; i < 8; ++i) {
    const int e = 16 * kH + i;  // dword of the low nibbles' elements; high: e + 8
    k_packed_quants<kFifthBit, kH>(blk, i, out[e], out[e + 8]);
  }
}

template <bool kFifthBit>
void unpack_tile_k_packed(const uint8_t* blk, Tile& tile) {
  using L = KPacked<kFifthBit>;
  auto* out = reinterpret_cast<__m512i*>(tile.w);
  k_packed_tile_part<kFifthBit, 0>(blk, out);
  k_packed_tile_part<kFifthBit, 1>(blk, out);
  k_packed_tile_part<kFifthBit, 2>(blk, out);
  k_packed_tile_part<kFifthBit, 3>(blk, out);
  k_packed_scales(blk + L::kScales, tile.sc, tile.m);
  tile.d = halves16(blk + L::kD);
  tile.dmin = halves16(blk + L::kDmin);
}

// Sub-blocks 2h and 2h+1 of NT tokens: their integer sums times their scales, added to acc.
template <bool kFifthBit, int kH, int NT>
KQ_INLINE void k_packed_few_part(const uint8_t* blk, const uint8_t* const* a, const __m512i* sc, __m512i* acc) {
  __m512i lo[NT], hi[NT];
  for (int t = 0; t < NT; ++t) lo[t] = hi[t] = _mm512_setzero_si512();
#pragma GCC unroll 8
  for (int k = 0; k < 8; ++k) {
    __m512i wl, wh;
    k_packed_quants<kFifthBit, kH>(blk, k, wl, wh);
    for (int t = 0; t < NT; ++t) {
      lo[t] = _mm512_dpbusd_epi32(lo[t], wl, _mm512_set1_epi32(load_i32(a[t] + kQ8Qs + 4 * (16 * kH + k))));
      hi[t] = _mm512_dpbusd_epi32(hi[t], wh, _mm512_set1_epi32(load_i32(a[t] + kQ8Qs + 4 * (16 * kH + 8 + k))));
    }
  }
  for (int t = 0; t < NT; ++t) {
    acc[t] = _mm512_add_epi32(acc[t], _mm512_mullo_epi32(lo[t], sc[2 * kH]));
    acc[t] = _mm512_add_epi32(acc[t], _mm512_mullo_epi32(hi[t], sc[2 * kH + 1]));
  }
}

// Generation: NT tokens times one packed 16-row group, straight from the stream into registers;
// per super-block the integer sums and float ops of tile_tokens.
template <bool kFifthBit, int NT>
void k_packed_few_tokens(const uint8_t* group, int64_t nb, const uint8_t* x, size_t x_stride, float* y, size_t y_stride,
                         __mmask16 row_mask) {
  using L = KPacked<kFifthBit>;
  __m512 v[NT];
  for (int t = 0; t < NT; ++t) v[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = group + static_cast<size_t>(b) * L::kGroupBlock;
    for (size_t o = 0; o < L::kGroupBlock; o += 64) {
      _mm_prefetch(reinterpret_cast<const char*>(blk + kPrefetchDistance + o), _MM_HINT_T0);
    }
    const uint8_t* a[NT];
    for (int t = 0; t < NT; ++t) a[t] = x + static_cast<size_t>(t) * x_stride + static_cast<size_t>(b) * kQ8Bytes;
    __m512i sc[8], mpair[8];
    k_packed_scales(blk + L::kScales, sc, mpair);
    __m512i acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_si512();
    k_packed_few_part<kFifthBit, 0, NT>(blk, a, sc, acc);
    k_packed_few_part<kFifthBit, 1, NT>(blk, a, sc, acc);
    k_packed_few_part<kFifthBit, 2, NT>(blk, a, sc, acc);
    k_packed_few_part<kFifthBit, 3, NT>(blk, a, sc, acc);
    const __m512 d = halves16(blk + L::kD), dmin = halves16(blk + L::kDmin);
    for (int t = 0; t < NT; ++t) {
      __m512i summ = _mm512_setzero_si512();
      for (int i = 0; i < 8; ++i) summ = _mm512_dpwssd_epi32(summ, mpair[i], _mm512_set1_epi32(load_i32(a[t] + kQ8Bsums + 4 * i)));
      float dx;
      std::memcpy(&dx, a[t], 4);
      const __m512 vdx = _mm512_set1_ps(dx);
      v[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[t]), _mm512_mul_ps(d, vdx), v[t]);
      v[t] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(summ), _mm512_mul_ps(dmin, vdx), v[t]);
    }
  }
  for (int t = 0; t < NT; ++t) _mm512_mask_storeu_ps(y + static_cast<size_t>(t) * y_stride, row_mask, v[t]);
}

// A packed type's gemm: the many-token path through tiles, the few-token path straight from the
// stream. Group g of the packed copy starts where row 16g would in the file's layout.
template <class K, size_t kGroupBlock, void (*kUnpack)(const uint8_t*, Tile&),
          template <int> class Few>
void gemm_packed(const uint8_t* w, size_t row_bytes, int64_t n, const uint8_t* x, size_t x_stride, int64_t n_tokens,
                 float* y, size_t y_stride, int64_t row_begin, int64_t row_end) {
  if (row_begin % 16 != 0) std::abort();  // packed groups start every 16 rows
  const int64_t nb = n / kQK;
  if (n_tokens >= kManyTokens) {
    const auto unpack = [&](int64_t row0, int, int64_t b, Tile& tile) {
      kUnpack(w + static_cast<size_t>(row0) * row_bytes + static_cast<size_t>(b) * kGroupBlock, tile);
    };
    rows_many_tokens<K>(unpack, nb, x, x_stride, n_tokens, y, y_stride, row_begin, row_end);
    return;
  }
  for (int64_t r0 = row_begin; r0 < row_end; r0 += 16) {
    const uint8_t* group = w + static_cast<size_t>(r0) * row_bytes;
    const int nr = row_end - r0 < 16 ? static_cast<int>(row_end - r0) : 16;
    const auto mask = static_cast<__mmask16>((1u << nr) - 1u);
    for (int64_t t = 0; t < n_tokens; t += 3) {
      const uint8_t* xt = x + static_cast<size_t>(t) * x_stride;
      float* yt = y + static_cast<size_t>(t) * y_stride + r0;
      switch (n_tokens - t) {
        case 1: Few<1>::run(group, nb, xt, x_stride, yt, y_stride, mask); break;
        case 2: Few<2>::run(group, nb, xt, x_stride, yt, y_stride, mask); break;
        default: Few<3>::run(group, nb, xt, x_stride, yt, y_stride, mask); break;
      }
    }
  }
}

template <int NT>
struct Q4KFew {
  static void run(const uint8_t* g, int64_t nb, const uint8_t* x, size_t xs, float* y, size_t ys, __mmask16 m) {
    k_packed_few_tokens<false, NT>(g, nb, x, xs, y, ys, m);
  }
};
template <int NT>
struct Q5KFew {
  static void run(const uint8_t* g, int64_t nb, const uint8_t* x, size_t xs, float* y, size_t ys, __mmask16 m) {
    k_packed_few_tokens<true, NT>(g, nb, x, xs, y, ys, m);
  }
};
// ------------------------------------------------------------------------------------------
// Q6_K packed at load, four-row interleaved (row_streams.h) in pieces of one block: rows
// 4q..4q+3 ("quad" q) are stored as [row 4q block 0][row 4q+1 block 0][row 4q+2 block 0]
// [row 4q+3 block 0][row 4q block 1]..., each block in the file's layout. The four-row
// generation kernel then reads one sequential stream instead of four streams a row apart, whose
// prefetches the hardware tracks less well (25 GB/s per core from DRAM in the file's layout, 36
// so: as fast as plain reads), with the same arithmetic, so results are bit-identical to gemm<K>. The tiles of the many-token path
// read the same blocks from their new places. (Lane-major like Q4_K, Q6_K streamed slower.)
template <class K>
void pack_quads(const uint8_t* w, size_t row_bytes, int64_t, int64_t rows, uint8_t* dst) {
  FourRowInterleave<K::kBytes>{row_bytes}.pack(w, rows, dst);
}

template <class K>
void unpack_quad_row(const uint8_t* packed, size_t row_bytes, int64_t, int64_t r, uint8_t* dst) {
  FourRowInterleave<K::kBytes>{row_bytes}.unpack_row(packed, r, dst);
}

template <class K>
void gemm_quads(const uint8_t* w, size_t row_bytes, int64_t n, const uint8_t* x, size_t x_stride, int64_t n_tokens,
                float* y, size_t y_stride, int64_t row_begin, int64_t row_end) {
  if (row_begin % 16 != 0) std::abort();  // packed groups start every 16 rows
  const int64_t nb = n / kQK;
  const FourRowInterleave<K::kBytes> layout{row_bytes};
  if (n_tokens >= kManyTokens) {
    const auto unpack = [&](int64_t row0, int nr, int64_t b, Tile& tile) {
      unpack_tile<K>([&](int r) { return layout.piece(layout.quad_of(w, row0 + r), r % 4, static_cast<size_t>(b)); }, nr,
                     tile);
    };
    rows_many_tokens<K>(unpack, nb, x, x_stride, n_tokens, y, y_stride, row_begin, row_end);
    return;
  }
  for (int64_t t = 0; t < n_tokens; t += 3) {
    const uint8_t* xt = x + static_cast<size_t>(t) * x_stride;
    const int nt = static_cast<int>(n_tokens - t < 3 ? n_tokens - t : 3);
    for (int64_t r = row_begin; r < row_end; r += 4) {
      const uint8_t* quad = layout.quad_of(w, r);
      const auto block = [&](int i, int64_t b) { return layout.piece(quad, i, static_cast<size_t>(b)); };
      // The packed copy has all four rows (zero rows pad the last group); a quad that runs past
      // row_end is computed into `tail` and only its own rows are stored.
      float* yt = y + static_cast<size_t>(t) * y_stride + r;
      alignas(16) float tail[3][4];
      const bool whole = r + 4 <= row_end;
      float* out = whole ? yt : tail[0];
      const size_t out_stride = whole ? y_stride : 4;
      switch (nt) {
        case 1: four_rows_few_tokens<K, 1>(block, nb, xt, x_stride, out, out_stride, kPrefetchDistance); break;
        case 2: four_rows_few_tokens<K, 2>(block, nb, xt, x_stride, out, out_stride, kPrefetchDistance); break;
        default: four_rows_few_tokens<K, 3>(block, nb, xt, x_stride, out, out_stride, kPrefetchDistance); break;
      }
      if (!whole) {
        for (int tt = 0; tt < nt; ++tt) {
          for (int64_t i = 0; i < row_end - r; ++i) yt[static_cast<size_t>(tt) * y_stride + i] = tail[tt][i];
        }
      }
    }
  }
}

const MatmulKernels kTable[] = {
    // Q2_K and Q3_K stay in the file's layout: their unpacking is the limit (25-27 GB/s per core
    // in L2 and from DRAM alike), and interleaved by four rows they ran 10-20% slower.
    {GgmlType::Q2_K, GgmlType::Q8_K, Isa::Avx512Vnni, quantize_q8_k, gemm<Q2K>},
    {GgmlType::Q3_K, GgmlType::Q8_K, Isa::Avx512Vnni, quantize_q8_k, gemm<Q3K>},
    {GgmlType::Q4_K, GgmlType::Q8_K, Isa::Avx512Vnni, quantize_q8_k, gemm<Q4K>, pack_q4k,
     gemm_packed<Q4K, KPacked<false>::kGroupBlock, unpack_tile_k_packed<false>, Q4KFew>, unpack_row_q4k},
    {GgmlType::Q5_K, GgmlType::Q8_K, Isa::Avx512Vnni, quantize_q8_k, gemm<Q5K>, pack_q5k,
     gemm_packed<Q5K, KPacked<true>::kGroupBlock, unpack_tile_k_packed<true>, Q5KFew>, unpack_row_q5k},
    {GgmlType::Q6_K, GgmlType::Q8_K, Isa::Avx512Vnni, quantize_q8_k, gemm<Q6K>, pack_quads<Q6K>, gemm_quads<Q6K>,
     unpack_quad_row<Q6K>},
};

}  // namespace

const MatmulKernels* avx512vnni_kernels(int& count) {
  count = static_cast<int>(sizeof kTable / sizeof kTable[0]);
  return kTable;
}

}  // namespace anychip::cpu::kquant
