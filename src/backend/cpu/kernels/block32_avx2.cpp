// AVX2 (+FMA, F16C) kernels for the 32-element block types. Compiled with -mavx2 -mfma -mf16c and
// only called after run-time detection; everything here has internal linkage (see
// x86_kernel_tables.h).
//
// Layout: one 256-bit register holds one block (32 values). A tile of R weight rows x T tokens
// decodes each weight block once and multiplies it with T activation blocks. Without VNNI the
// 8-bit products use vpmaddubsw (unsigned x signed -> 16-bit pairs) then vpmaddwd with ones:
// 4- and 5-bit weights stay unsigned (q, 0..31) and the zero point of Q4_0/Q5_0 is removed once
// per activation block as off * sum(x); Q8_0 weights use the sign trick (|w| x sign(x, w)).
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

inline float h2f(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

inline uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// ---- activation quantization: exactly ref::round_activations' Q8_0 / Q8_1 rounding ----

template <bool kSum>
void quantize_q8(const float* x, void* dst, int64_t n) {
  auto* out = static_cast<uint8_t*>(dst);
  constexpr size_t kBlock = kSum ? 36 : 34;
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (int64_t b = 0; b < n / 32; ++b, x += 32, out += kBlock) {
    __m256 v[4];
    __m256 amax = _mm256_setzero_ps();
    for (int i = 0; i < 4; ++i) {
      v[i] = _mm256_loadu_ps(x + 8 * i);
      // maxps returns its second operand when either is NaN: a NaN input is skipped, as
      // std::max(amax, NaN) skips it in the reference.
      amax = _mm256_max_ps(_mm256_and_ps(v[i], abs_mask), amax);
    }
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    const float amax_s = _mm_cvtss_f32(m);
    const float d = amax_s / 127.f;
    const float id = amax_s != 0.0f ? 127.f / amax_s : 0.0f;
    const __m256 vid = _mm256_set1_ps(id);
    __m256i q[4];
    for (int i = 0; i < 4; ++i) {
      q[i] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v[i], vid), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    const uint16_t d16 = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
    std::memcpy(out, &d16, 2);
    if constexpr (kSum) {
      const __m256i s4 = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
      __m128i s = _mm_add_epi32(_mm256_castsi256_si128(s4), _mm256_extracti128_si256(s4, 1));
      s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
      s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
      const uint16_t s16 = _cvtss_sh(d * static_cast<float>(_mm_cvtsi128_si32(s)), _MM_FROUND_TO_NEAREST_INT);
      std::memcpy(out + 2, &s16, 2);
    }
    // int32 -> int8 with saturating packs (values are within [-127, 127]), then undo the
    // per-lane interleave of the packs.
    const __m256i p01 = _mm256_packs_epi32(q[0], q[1]);
    const __m256i p23 = _mm256_packs_epi32(q[2], q[3]);
    const __m256i p = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(p01, p23), perm);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + (kSum ? 4 : 2)), p);
  }
}

// ---- weight decoding: one block -> 32 bytes in element order ----

inline __m256i nibbles(const uint8_t* qs) {
  const __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(t, 4), t), _mm256_set1_epi8(0x0f));
}

// Byte j = 0x10 where bit j of the 32-bit qh is set, else 0.
inline __m256i high_bits(const uint8_t* qh) {
  const __m256i shuf = _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101, 0x0202020202020202,
                                          0x0303030303030303);
  __m256i b = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(load_u32(qh))), shuf);
  b = _mm256_or_si256(b, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
  b = _mm256_cmpeq_epi8(b, _mm256_set1_epi64x(-1));
  return _mm256_and_si256(b, _mm256_set1_epi8(0x10));
}

// Each type: block size, activation block size/offset, whether it has a min, the zero point
// removed through the activation sum (0 for none), and decode() -> (operand, d, m).
// kSigned: the operand is signed (Q8_0) and multiplied with the sign trick.
struct Q4_0 {
  static constexpr size_t kBytes = 18;
  static constexpr bool kMin = false, kSigned = false;
  static constexpr int kOff = 8;
  static __m256i decode(const uint8_t* b, float& d, float&) {
    d = h2f(b);
    return nibbles(b + 2);
  }
};
struct Q4_1 {
  static constexpr size_t kBytes = 20;
  static constexpr bool kMin = true, kSigned = false;
  static constexpr int kOff = 0;
  static __m256i decode(const uint8_t* b, float& d, float& m) {
    d = h2f(b);
    m = h2f(b + 2);
    return nibbles(b + 4);
  }
};
struct Q5_0 {
  static constexpr size_t kBytes = 22;
  static constexpr bool kMin = false, kSigned = false;
  static constexpr int kOff = 16;
  static __m256i decode(const uint8_t* b, float& d, float&) {
    d = h2f(b);
    return _mm256_or_si256(nibbles(b + 6), high_bits(b + 2));
  }
};
struct Q5_1 {
  static constexpr size_t kBytes = 24;
  static constexpr bool kMin = true, kSigned = false;
  static constexpr int kOff = 0;
  static __m256i decode(const uint8_t* b, float& d, float& m) {
    d = h2f(b);
    m = h2f(b + 2);
    return _mm256_or_si256(nibbles(b + 8), high_bits(b + 4));
  }
};
struct Q8_0 {
  static constexpr size_t kBytes = 34;
  static constexpr bool kMin = false, kSigned = true;
  static constexpr int kOff = 0;
  static __m256i decode(const uint8_t* b, float& d, float&) {
    d = h2f(b);
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 2));
  }
};

// R rows read side by side: without help one core read Q4_0 from DRAM at 4.6 GB/s (18.6 in L2),
// so each block read prefetches the same block of the rows whole tiles below (row_streams.h).

// R rows x T tokens over all blocks of the row.
template <class W, int R, int T>
void tile(const uint8_t* w, size_t row_bytes, int64_t nb, const uint8_t* x, size_t x_stride, float* y,
          size_t y_stride, int64_t r0) {
  const size_t prefetch_distance = whole_tiles_ahead(R * row_bytes);
  constexpr size_t kActBytes = W::kMin ? 36 : 34;
  constexpr size_t kActQs = W::kMin ? 4 : 2;
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[R][T];
  float summ[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) {
      acc[r][t] = _mm256_setzero_ps();
      summ[r][t] = 0.0f;
    }
  }
  const uint8_t* wr[R];
  for (int r = 0; r < R; ++r) wr[r] = w + static_cast<size_t>(r0 + r) * row_bytes;
  for (int64_t b = 0; b < nb; ++b) {
    __m256i xq[T], corr[T];
    float dx[T], sx[T];
    for (int t = 0; t < T; ++t) {
      const uint8_t* xb = x + t * x_stride + b * kActBytes;
      dx[t] = h2f(xb);
      if constexpr (W::kMin) sx[t] = h2f(xb + 2);
      xq[t] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + kActQs));
      if constexpr (W::kOff != 0) {
        corr[t] = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(W::kOff), xq[t]), ones);
      }
    }
    for (int r = 0; r < R; ++r) {
      float dw, mw = 0.0f;
      // The block's last byte: the first block to reach into each new line fetches it.
      _mm_prefetch(reinterpret_cast<const char*>(wr[r] + b * W::kBytes + prefetch_distance + W::kBytes - 1), _MM_HINT_T0);
      const __m256i u = W::decode(wr[r] + b * W::kBytes, dw, mw);
      const __m256i au = W::kSigned ? _mm256_sign_epi8(u, u) : u;
      for (int t = 0; t < T; ++t) {
        const __m256i sxq = W::kSigned ? _mm256_sign_epi8(xq[t], u) : xq[t];
        __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(au, sxq), ones);
        if constexpr (W::kOff != 0) p = _mm256_sub_epi32(p, corr[t]);
        acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dw * dx[t]), acc[r][t]);
        if constexpr (W::kMin) summ[r][t] += mw * sx[t];
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) y[t * y_stride + r0 + r] = hsum(acc[r][t]) + summ[r][t];
  }
}

template <class W, int T>
void rows_tile(const uint8_t* w, size_t row_bytes, int64_t nb, const uint8_t* x, size_t x_stride, float* y,
               size_t y_stride, int64_t row_begin, int64_t row_end) {
  constexpr int kR = T == 1 ? 4 : 2;
  int64_t r = row_begin;
  for (; r + kR <= row_end; r += kR) tile<W, kR, T>(w, row_bytes, nb, x, x_stride, y, y_stride, r);
  for (; r < row_end; ++r) tile<W, 1, T>(w, row_bytes, nb, x, x_stride, y, y_stride, r);
}

template <class W>
void gemm(const uint8_t* w, size_t row_bytes, int64_t n, const uint8_t* x, size_t x_stride, int64_t n_tokens,
          float* y, size_t y_stride, int64_t row_begin, int64_t row_end) {
  const int64_t nb = n / 32;
  // Chunks of 16 rows stay in cache while every token passes over them; pairs of tokens share
  // each decoded weight block (with 16 registers a larger tile spills).
  for (int64_t rc = row_begin; rc < row_end; rc += 16) {
    const int64_t rc_end = rc + 16 < row_end ? rc + 16 : row_end;
    int64_t t = 0;
    for (; t + 2 <= n_tokens; t += 2) {
      rows_tile<W, 2>(w, row_bytes, nb, x + t * x_stride, x_stride, y + t * y_stride, y_stride, rc, rc_end);
    }
    if (t < n_tokens) {
      rows_tile<W, 1>(w, row_bytes, nb, x + t * x_stride, x_stride, y + t * y_stride, y_stride, rc, rc_end);
    }
  }
}

}  // namespace

Block32Table block32_avx2_table() {
  return {quantize_q8<false>, quantize_q8<true>, gemm<Q4_0>, gemm<Q4_1>, gemm<Q5_0>, gemm<Q5_1>, gemm<Q8_0>,
          {}, {}, {}, {}, {}};  // no packed layouts: the AVX2 kernels read the rows as stored
}

}  // namespace anychip::cpu
