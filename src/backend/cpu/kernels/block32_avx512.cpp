// AVX-512 VNNI kernels for the 32-element block types. Compiled with AVX-512 F/BW/VL/DQ/VNNI
// flags and only called after run-time detection (Isa::Avx512Vnni); everything here has internal
// linkage (see x86_kernel_tables.h).
//
// Layout ("rows in lanes"): 16 weight rows are processed together. For each block, the rows'
// 32 values are transposed so that register W_g holds, in its 16 dword lanes, the 4 bytes of
// group g (elements 4g..4g+3) of each row. One vpdpbusd of W_g with the 4 activation bytes of
// group g broadcast to all lanes then advances the dot products of all 16 rows at once, and after
// 8 groups lane i holds row i's exact integer block sum. Scaling is then one vector op for 16
// rows (the row scales d_w are a vector, the activation scale a broadcast), so no horizontal sums
// are needed until the very end, and none at all per block.
//
// vpdpbusd multiplies unsigned by signed bytes: weights go in unsigned (the 4/5-bit q as stored,
// Q8_0 as w + 128) and activations signed; the zero point (8, 16 or 128) is removed exactly by
// starting each block's integer accumulator at -zero_point * sum(activation block).
//
// Batch invariance: every token count uses this one arithmetic per (row, token): per block the
// exact int32 sum (zero point included), then acc = fma(float(sum), d_w * d_x, acc) and, for the
// types with a min, acc = fma(m_w, s_x, acc), block after block; only which tokens share a decoded
// block changes with the batch. (One token used to stream each row alone with two blocks per
// vector and a separate float sum of the offsets: different bits than the same token in a batch.)
//
// Tokens: up to 8 tokens (generation, short batches) share every weight block decoded straight
// from the 16 rows into registers, while the next group is prefetched as one sequential stream
// (see prefetch_ahead). With more (prompt processing) the group is first decoded into a
// panel (transposed, unpacked to bytes, 576-640 bytes per block, cache resident) that every tile
// of up to 12 tokens then streams, so each weight byte is decoded once per call; the tiles'
// activations are interleaved once per call so that one pointer serves all tokens of a tile.
// On this Zen 5 host the panel loop runs vpdpbusd at close to two per cycle.
//
// GCC 12's AVX-512 headers trip -Wuninitialized inside their own _mm512_undefined_* helpers.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "backend/cpu/kernels/packed_layout.h"
#include "backend/cpu/kernels/x86_kernel_tables.h"

namespace anychip::cpu {
namespace {

inline int32_t load_i32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

inline float h2f(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// acc += dot4(w (unsigned bytes), the 4 signed bytes at p broadcast to every lane).
inline __m512i dpbusd_bcast(__m512i acc, __m512i w, const uint8_t* p) {
  return _mm512_dpbusd_epi32(acc, w, _mm512_set1_epi32(load_i32(p)));
}

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// ---- activation quantization: exactly ref::round_activations' Q8_0 / Q8_1 rounding ----

template <bool kSum>
void quantize_q8(const float* x, void* dst, int64_t n) {
  auto* out = static_cast<uint8_t*>(dst);
  constexpr size_t kBlock = kSum ? 36 : 34;
  constexpr size_t kQs = kSum ? 4 : 2;
  for (int64_t b = 0; b < n / 32; ++b, x += 32, out += kBlock) {
    const __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
    // maxps returns its second operand when either is NaN, so a NaN input is skipped, as
    // std::max(amax, NaN) skips it in the reference.
    __m512 amax = _mm512_max_ps(_mm512_abs_ps(v0), _mm512_setzero_ps());
    amax = _mm512_max_ps(_mm512_abs_ps(v1), amax);
    const float a = _mm512_reduce_max_ps(amax);
    const float d = a / 127.f;
    const float id = a != 0.0f ? 127.f / a : 0.0f;
    const __m512 vid = _mm512_set1_ps(id);
    const __m512i q0 = _mm512_cvt_roundps_epi32(_mm512_mul_ps(v0, vid), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512i q1 = _mm512_cvt_roundps_epi32(_mm512_mul_ps(v1, vid), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const uint16_t d16 = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
    std::memcpy(out, &d16, 2);
    if constexpr (kSum) {
      const int sum = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
      const uint16_t s16 = _cvtss_sh(d * static_cast<float>(sum), _MM_FROUND_TO_NEAREST_INT);
      std::memcpy(out + 2, &s16, 2);
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + kQs), _mm512_cvtepi32_epi8(q0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + kQs + 16), _mm512_cvtepi32_epi8(q1));
  }
}

// ---- 16-row groups ----

// Lane position p of a transposed register holds row 4*(p%4) + p/4 of the group (and, the map
// being its own inverse, row j sits at position 4*(j%4) + j/4).
inline int lane_row(int p) { return 4 * (p % 4) + p / 4; }

struct Rows {
  const uint8_t* p[16];       // row j of the group (rows past the end repeat the last one)
  const uint8_t* lane_p[16];  // the row in each lane position
  const char* next;      // the next group's bytes, prefetched while this group is read
  size_t ahead;          // bytes of the next group to prefetch per block step
};

// A group's 16 rows are contiguous, but reading them block by block is 16 interleaved streams,
// more than the hardware prefetchers follow (this is what made the rows-in-lanes kernels stream
// at half the bandwidth of a one-row-at-a-time loop). So, block step b of a group prefetches the
// b-th slice of the next group's bytes: one sequential stream, a whole group (16 rows, < 1 MiB
// for any model row) ahead, into L1 (into L2 only, the 16 rows' demand loads then streamed
// Q8_0 at 25 GB/s per core instead of 30).
inline void prefetch_ahead(const Rows& R, int64_t b) {
  const char* p = R.next + static_cast<size_t>(b) * R.ahead;
  for (size_t o = 0; o < R.ahead; o += 64) _mm_prefetch(p + o, _MM_HINT_T0);
}

inline Rows make_rows(const uint8_t* w, size_t row_bytes, int64_t r0, int nr, int64_t nb) {
  Rows R;
  R.next = reinterpret_cast<const char*>(w + static_cast<size_t>(r0 + 16) * row_bytes);
  R.ahead = (16 * row_bytes / static_cast<size_t>(nb) + 63) / 64 * 64;
  for (int j = 0; j < 16; ++j) R.p[j] = w + static_cast<size_t>(r0 + (j < nr ? j : nr - 1)) * row_bytes;
  for (int p = 0; p < 16; ++p) R.lane_p[p] = R.p[lane_row(p)];
  return R;
}

inline __m512i load4x16(const uint8_t* a, const uint8_t* b, const uint8_t* c, const uint8_t* d) {
  __m512i v = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a)));
  v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(b)), 1);
  v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(c)), 2);
  v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(d)), 3);
  return v;
}

// The 16 bytes at offset o of every row, as out[g] = dword g of each row in lane order.
inline void load_transposed(const Rows& R, size_t o, __m512i* out) {
  __m512i a[4];
  for (int i = 0; i < 4; ++i) a[i] = load4x16(R.p[4 * i] + o, R.p[4 * i + 1] + o, R.p[4 * i + 2] + o, R.p[4 * i + 3] + o);
  // 4x4 dword transpose inside each 128-bit lane: lane L of a[i] is row 4i+L, so position 4L+i
  // of out[g] gets row 4i+L's dword g.
  const __m512i t0 = _mm512_unpacklo_epi32(a[0], a[1]), t1 = _mm512_unpackhi_epi32(a[0], a[1]);
  const __m512i t2 = _mm512_unpacklo_epi32(a[2], a[3]), t3 = _mm512_unpackhi_epi32(a[2], a[3]);
  out[0] = _mm512_unpacklo_epi64(t0, t2);
  out[1] = _mm512_unpackhi_epi64(t0, t2);
  out[2] = _mm512_unpacklo_epi64(t1, t3);
  out[3] = _mm512_unpackhi_epi64(t1, t3);
}

// The dword at offset o of every row, in lane order. Sixteen scalar loads, not vpgatherdd: on
// Zen 5 the gather made the Q4_0 matvec 20% slower with its data in L2.
inline __m512i gather_dword(const Rows& R, size_t o) {
  const uint8_t* const* q = R.lane_p;
  return _mm512_setr_epi32(load_i32(q[0] + o), load_i32(q[1] + o), load_i32(q[2] + o), load_i32(q[3] + o),
                           load_i32(q[4] + o), load_i32(q[5] + o), load_i32(q[6] + o), load_i32(q[7] + o),
                           load_i32(q[8] + o), load_i32(q[9] + o), load_i32(q[10] + o), load_i32(q[11] + o),
                           load_i32(q[12] + o), load_i32(q[13] + o), load_i32(q[14] + o), load_i32(q[15] + o));
}

inline __m512 half_lo(__m512i v) { return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(v)); }
inline __m512 half_hi(__m512i v) { return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(v, 16))); }

inline void split_nibbles(const __m512i* b, __m512i* wv) {
  const __m512i lo = _mm512_set1_epi8(0x0f);
  for (int g = 0; g < 4; ++g) {
    wv[g] = _mm512_and_si512(b[g], lo);
    wv[g + 4] = _mm512_and_si512(_mm512_srli_epi16(b[g], 4), lo);
  }
}

// Adds 16 to byte i of wv[g] where bit 4g+i of the lane's 32-bit qh is set.
inline void add_high_bits(__m512i qh, __m512i* wv) {
  const __m512i sixteen = _mm512_set1_epi8(16);
  for (int k = 0; k < 4; ++k) {
    // Byte k of each dword copied to all four of its bytes (vpshufb indexes within 128 bits).
    const __m512i pattern = _mm512_add_epi8(_mm512_set4_epi32(0x0c0c0c0c, 0x08080808, 0x04040404, 0),
                                            _mm512_set1_epi8(static_cast<char>(k)));
    const __m512i sel = _mm512_shuffle_epi8(qh, pattern);
    const __mmask64 m0 = _mm512_test_epi8_mask(sel, _mm512_set1_epi32(0x08040201));
    const __mmask64 m1 = _mm512_test_epi8_mask(sel, _mm512_set1_epi32(static_cast<int32_t>(0x80402010u)));
    wv[2 * k] = _mm512_mask_add_epi8(wv[2 * k], m0, wv[2 * k], sixteen);
    wv[2 * k + 1] = _mm512_mask_add_epi8(wv[2 * k + 1], m1, wv[2 * k + 1], sixteen);
  }
}

// Packed layout (pack<W>, made once at load): per 16-row group and block, the 16 rows' quant
// dwords already transposed with lane i = row i (Q8_0 already biased to w + 128), then for Q5 the
// 16 rows' qh words, then the 16 f16 scales d (and for the types with a min, the 16 f16 m). The
// same bytes as the 16 rows' blocks, read as one sequential stream with plain vector loads.
template <class W>
constexpr size_t packed_block_bytes() {
  return 16 * W::kBytes;
}

inline __m512i loadu512(const uint8_t* p) { return _mm512_loadu_si512(p); }
inline __m512 halves16(const uint8_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// Weight types: block bytes, min or not, zero point, where a block's parts are (kQs quant bytes at
// kQsAt, the 32-bit qh at kQhAt or none, d then m as f16 at 0), and decode of block at byte
// offset o of every row, or of a packed block, into 8 unsigned group registers plus scale (and
// min) vectors.
struct Q4_0 {
  static constexpr size_t kBytes = 18;
  static constexpr bool kMin = false;
  static constexpr int kOff = 8;
  static constexpr int kQs = 16, kQsAt = 2, kQhAt = -1;
  static void decode(const Rows& R, size_t o, __m512i* wv, __m512& d, __m512&) {
    __m512i b[4];
    load_transposed(R, o + 2, b);
    split_nibbles(b, wv);
    d = half_lo(gather_dword(R, o));
  }
  static void decode_packed(const uint8_t* p, __m512i* wv, __m512& d, __m512&) {
    const __m512i b[4] = {loadu512(p), loadu512(p + 64), loadu512(p + 128), loadu512(p + 192)};
    split_nibbles(b, wv);
    d = halves16(p + 256);
  }
};
struct Q4_1 {
  static constexpr size_t kBytes = 20;
  static constexpr bool kMin = true;
  static constexpr int kOff = 0;
  static constexpr int kQs = 16, kQsAt = 4, kQhAt = -1;
  static void decode(const Rows& R, size_t o, __m512i* wv, __m512& d, __m512& m) {
    __m512i b[4];
    load_transposed(R, o + 4, b);
    split_nibbles(b, wv);
    const __m512i dm = gather_dword(R, o);
    d = half_lo(dm);
    m = half_hi(dm);
  }
  static void decode_packed(const uint8_t* p, __m512i* wv, __m512& d, __m512& m) {
    const __m512i b[4] = {loadu512(p), loadu512(p + 64), loadu512(p + 128), loadu512(p + 192)};
    split_nibbles(b, wv);
    d = halves16(p + 256);
    m = halves16(p + 288);
  }
};
struct Q5_0 {
  static constexpr size_t kBytes = 22;
  static constexpr bool kMin = false;
  static constexpr int kOff = 16;
  static constexpr int kQs = 16, kQsAt = 6, kQhAt = 2;
  static void decode(const Rows& R, size_t o, __m512i* wv, __m512& d, __m512&) {
    __m512i b[4];
    load_transposed(R, o + 6, b);
    split_nibbles(b, wv);
    add_high_bits(gather_dword(R, o + 2), wv);
    d = half_lo(gather_dword(R, o));
  }
  static void decode_packed(const uint8_t* p, __m512i* wv, __m512& d, __m512&) {
    const __m512i b[4] = {loadu512(p), loadu512(p + 64), loadu512(p + 128), loadu512(p + 192)};
    split_nibbles(b, wv);
    add_high_bits(loadu512(p + 256), wv);
    d = halves16(p + 320);
  }
};
struct Q5_1 {
  static constexpr size_t kBytes = 24;
  static constexpr bool kMin = true;
  static constexpr int kOff = 0;
  static constexpr int kQs = 16, kQsAt = 8, kQhAt = 4;
  static void decode(const Rows& R, size_t o, __m512i* wv, __m512& d, __m512& m) {
    __m512i b[4];
    load_transposed(R, o + 8, b);
    split_nibbles(b, wv);
    add_high_bits(gather_dword(R, o + 4), wv);
    const __m512i dm = gather_dword(R, o);
    d = half_lo(dm);
    m = half_hi(dm);
  }
  static void decode_packed(const uint8_t* p, __m512i* wv, __m512& d, __m512& m) {
    const __m512i b[4] = {loadu512(p), loadu512(p + 64), loadu512(p + 128), loadu512(p + 192)};
    split_nibbles(b, wv);
    add_high_bits(loadu512(p + 256), wv);
    d = halves16(p + 320);
    m = halves16(p + 352);
  }
};
struct Q8_0 {
  static constexpr size_t kBytes = 34;
  static constexpr bool kMin = false;
  static constexpr int kOff = 128;
  static constexpr int kQs = 32, kQsAt = 2, kQhAt = -1;
  static void decode(const Rows& R, size_t o, __m512i* wv, __m512& d, __m512&) {
    load_transposed(R, o + 2, wv);
    load_transposed(R, o + 18, wv + 4);
    const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80));
    for (int g = 0; g < 8; ++g) wv[g] = _mm512_xor_si512(wv[g], bias);  // w + 128 as unsigned
    d = half_lo(gather_dword(R, o));
  }
  static void decode_packed(const uint8_t* p, __m512i* wv, __m512& d, __m512&) {
    for (int g = 0; g < 8; ++g) wv[g] = loadu512(p + 64 * g);
    d = halves16(p + 512);
  }
};

// W's packed layout: its quants (Q8_0's biased to w + 128) as kQs / 4 vectors, then Q5's qh as
// one vector, then the 16 rows' d and, for the types with a min, their m.
template <class W>
constexpr PackedLayout layout_of() {
  constexpr int kScalesAt = 16 * W::kQs + (W::kQhAt >= 0 ? 64 : 0);
  return {static_cast<int>(W::kBytes),
          32,
          static_cast<uint8_t>(W::kOff == 128 ? 0x80 : 0),
          {{W::kQsAt, W::kQs / 4, 0}, {W::kQhAt, W::kQhAt >= 0 ? 1 : 0, 16 * W::kQs}, {0, 0, 0}},
          {{0, kScalesAt}, {2, W::kMin ? kScalesAt + 32 : -1}}};
}

template <class W>
void pack(const uint8_t* w, size_t row_bytes, int64_t n, int64_t rows, uint8_t* dst) {
  static_assert(layout_of<W>().group_block() == packed_block_bytes<W>());
  pack_rows(layout_of<W>(), w, row_bytes, n, rows, dst);
}

template <class W>
void unpack_row(const uint8_t* packed, size_t row_bytes, int64_t n, int64_t r, uint8_t* dst) {
  unpack_packed_row(layout_of<W>(), packed, row_bytes, n, r, dst);
}

// Per activation block and token: its scale, and either -zero_point * sum(q) (types without a
// min) or the bits of the f32 block sum s (types with one).
struct TokEntry {
  float d;
  int32_t c;
};

// Where a 16-row group's blocks come from: the file's rows, transposed on the fly (lane p holds
// row lane_row(p)), or the packed copy (lane i holds row i).
template <class W>
struct RowGroup {
  static constexpr bool kLanesPermuted = true;
  Rows R;
  RowGroup(const uint8_t* w, size_t row_bytes, int64_t r0, int nr, int64_t nb) : R(make_rows(w, row_bytes, r0, nr, nb)) {}
  void decode(int64_t b, __m512i* wv, __m512& d, __m512& m) const {
    prefetch_ahead(R, b);
    W::decode(R, static_cast<size_t>(b) * W::kBytes, wv, d, m);
  }
};

// One sequential stream. Prefetching 8 KiB ahead keeps enough lines in flight to cover DRAM
// latency: one core streamed packed Q4_0 at 26 GB/s with 512 bytes, 35 with 8 KiB, 32 with 16.
constexpr size_t kPackedPrefetchDistance = 8192;

template <class W>
struct PackedGroup {
  static constexpr bool kLanesPermuted = false;
  const uint8_t* p;
  PackedGroup(const uint8_t* w, size_t row_bytes, int64_t r0, int, int64_t)
      : p(w + static_cast<size_t>(r0) * row_bytes) {}
  void decode(int64_t b, __m512i* wv, __m512& d, __m512& m) const {
    const uint8_t* q = p + static_cast<size_t>(b) * packed_block_bytes<W>();
    for (size_t o = 0; o < packed_block_bytes<W>(); o += 64) {
      _mm_prefetch(reinterpret_cast<const char*>(q + kPackedPrefetchDistance + o), _MM_HINT_T0);
    }
    W::decode_packed(q, wv, d, m);
  }
};

inline __m512i lane_order() {
  return _mm512_setr_epi32(lane_row(0), lane_row(1), lane_row(2), lane_row(3), lane_row(4), lane_row(5), lane_row(6),
                           lane_row(7), lane_row(8), lane_row(9), lane_row(10), lane_row(11), lane_row(12),
                           lane_row(13), lane_row(14), lane_row(15));
}

// Stores 16 rows' results of one token (rows past row_mask untouched), in row order.
template <bool kLanesPermuted>
inline void store_rows(float* y, __mmask16 row_mask, __m512 acc) {
  if constexpr (kLanesPermuted) acc = _mm512_permutexvar_ps(lane_order(), acc);
  _mm512_mask_storeu_ps(y, row_mask, acc);
}

template <class W>
constexpr size_t panel_bytes() {
  return 8 * 64 + 64 + (W::kMin ? 64 : 0);
}

template <class W, class Group>
void build_panel(const Group& G, int64_t nb, uint8_t* panel) {
  for (int64_t b = 0; b < nb; ++b, panel += panel_bytes<W>()) {
    __m512i wv[8];
    __m512 d, m = _mm512_setzero_ps();
    G.decode(b, wv, d, m);
    for (int g = 0; g < 8; ++g) _mm512_store_si512(panel + 64 * g, wv[g]);
    _mm512_store_ps(panel + 512, d);
    if constexpr (W::kMin) _mm512_store_ps(panel + 576, m);
  }
}

// Table entry of one activation block.
template <class W>
TokEntry token_entry(const uint8_t* xb) {
  TokEntry e;
  e.d = h2f(xb);
  if constexpr (W::kMin) {
    const float s = h2f(xb + 2);
    std::memcpy(&e.c, &s, 4);
  } else {
    // sum(q) = sum(q + 128) - 32 * 128, with the biased bytes summed by vpsadbw.
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + 2));
    const __m256i s4 = _mm256_sad_epu8(_mm256_xor_si256(q, _mm256_set1_epi8(static_cast<char>(0x80))),
                                       _mm256_setzero_si256());
    const __m128i s2 = _mm_add_epi64(_mm256_castsi256_si128(s4), _mm256_extracti128_si256(s4, 1));
    const int64_t sum = _mm_cvtsi128_si64(s2) + _mm_extract_epi64(s2, 1) - 32 * 128;
    e.c = static_cast<int32_t>(-W::kOff * sum);
  }
  return e;
}

// Scales one block's integer sums into the accumulators.
template <class W, int T>
inline void scale_block(const __m512i* p, __m512 d, __m512 m, const TokEntry* e, __m512* acc) {
  for (int t = 0; t < T; ++t) {
    acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p[t]), _mm512_mul_ps(d, _mm512_set1_ps(e[t].d)), acc[t]);
    if constexpr (W::kMin) acc[t] = _mm512_fmadd_ps(m, _mm512_castsi512_ps(_mm512_set1_epi32(e[t].c)), acc[t]);
  }
}

// Generation and short batches: one 16-row group times T <= 8 tokens, decoding each weight block
// straight from the rows into registers. Tokens at x (activation rows x_stride apart), their
// table entries at tab[b * tab_stride + t].
template <class W, int T, class Group>
void direct_tile(const Group& G, int64_t nb, const uint8_t* x, size_t x_stride, const TokEntry* tab,
                 int64_t tab_stride, float* y, size_t y_stride, __mmask16 row_mask) {
  constexpr size_t kActBytes = W::kMin ? 36 : 34;
  constexpr size_t kActQs = W::kMin ? 4 : 2;
  __m512 acc[T];
  const uint8_t* xt[T];
  for (int t = 0; t < T; ++t) {
    acc[t] = _mm512_setzero_ps();
    xt[t] = x + t * x_stride + kActQs;
  }
  for (int64_t b = 0; b < nb; ++b) {
    __m512i wv[8];
    __m512 d, m = _mm512_setzero_ps();
    G.decode(b, wv, d, m);
    const TokEntry* e = tab + b * tab_stride;
    const size_t xo = static_cast<size_t>(b) * kActBytes;
    __m512i p[T];
    for (int t = 0; t < T; ++t) p[t] = W::kOff != 0 ? _mm512_set1_epi32(e[t].c) : _mm512_setzero_si512();
#pragma GCC unroll 8
    for (int g = 0; g < 8; ++g) {
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) p[t] = dpbusd_bcast(p[t], wv[g], xt[t] + xo + 4 * g);
    }
    scale_block<W, T>(p, d, m, e, acc);
  }
  for (int t = 0; t < T; ++t) store_rows<Group::kLanesPermuted>(y + t * y_stride, row_mask, acc[t]);
}

// Prompt processing: one decoded 16-row panel times a tile of T tokens whose activations are
// interleaved per block (see interleave_tile): one pointer serves every token.
template <class W, int T, bool kLanesPermuted>
void panel_tile(const uint8_t* panel, int64_t nb, const uint8_t* xi, float* y, size_t y_stride, __mmask16 row_mask) {
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b, panel += panel_bytes<W>(), xi += 40 * T) {
    const __m512 d = _mm512_load_ps(panel + 512);
    const __m512 m = W::kMin ? _mm512_load_ps(panel + 576) : _mm512_setzero_ps();
    const TokEntry* e = reinterpret_cast<const TokEntry*>(xi + 32 * T);
    __m512i p[T];
    for (int t = 0; t < T; ++t) p[t] = W::kOff != 0 ? _mm512_set1_epi32(e[t].c) : _mm512_setzero_si512();
#pragma GCC unroll 8
    for (int g = 0; g < 8; ++g) {
      // Group registers are loaded where they are used, keeping registers for tokens.
      const __m512i wg = _mm512_load_si512(panel + 64 * g);
#pragma GCC unroll 12
      for (int t = 0; t < T; ++t) p[t] = dpbusd_bcast(p[t], wg, xi + 4 * (g * T + t));
    }
    scale_block<W, T>(p, d, m, e, acc);
  }
  for (int t = 0; t < T; ++t) store_rows<kLanesPermuted>(y + t * y_stride, row_mask, acc[t]);
}

// Activations of tokens [0, tt) (rows x_stride apart) interleaved for panel_tile: per block,
// group g of token t at dword g * tt + t, then the tt table entries (40 * tt bytes per block).
template <class W>
void interleave_tile(const uint8_t* x, size_t x_stride, int64_t tt, int64_t nb, uint8_t* xi) {
  constexpr size_t kActBytes = W::kMin ? 36 : 34;
  constexpr size_t kActQs = W::kMin ? 4 : 2;
  for (int64_t b = 0; b < nb; ++b, xi += 40 * tt) {
    for (int64_t t = 0; t < tt; ++t) {
      const uint8_t* xb = x + t * x_stride + b * kActBytes;
      for (int g = 0; g < 8; ++g) std::memcpy(xi + 4 * (g * tt + t), xb + kActQs + 4 * g, 4);
      const TokEntry e = token_entry<W>(xb);
      std::memcpy(xi + 32 * tt + 8 * t, &e, sizeof e);
    }
  }
}

template <class W, class Group>
void gemm_groups(const uint8_t* w, size_t row_bytes, int64_t n, const uint8_t* x, size_t x_stride, int64_t n_tokens,
                 float* y, size_t y_stride, int64_t row_begin, int64_t row_end) {
  constexpr size_t kActBytes = W::kMin ? 36 : 34;
  constexpr int64_t kMaxDirect = 8;   // tokens sharing the in-register decode
  constexpr int64_t kMaxPanel = 12;   // tokens sharing the panel
  const int64_t nb = n / 32;
  if (nb == 0 || row_end <= row_begin || n_tokens <= 0) return;
  if (n_tokens <= kMaxDirect) {
    // Token table, laid out [block][token] so a tile reads its entries from one cache line.
    auto* tab = static_cast<TokEntry*>(std::malloc(sizeof(TokEntry) * static_cast<size_t>(nb * n_tokens)));
    if (!tab) std::abort();
    for (int64_t t = 0; t < n_tokens; ++t) {
      for (int64_t b = 0; b < nb; ++b) tab[b * n_tokens + t] = token_entry<W>(x + t * x_stride + b * kActBytes);
    }
    for (int64_t r0 = row_begin; r0 < row_end; r0 += 16) {
      const int nr = static_cast<int>(min64(16, row_end - r0));
      const Group G(w, row_bytes, r0, nr, nb);
      const auto row_mask = static_cast<__mmask16>((1u << nr) - 1u);
      switch (n_tokens) {
#define ANYCHIP_TILE(T) \
  case T: direct_tile<W, T>(G, nb, x, x_stride, tab, n_tokens, y + r0, y_stride, row_mask); break;
        ANYCHIP_TILE(1) ANYCHIP_TILE(2) ANYCHIP_TILE(3) ANYCHIP_TILE(4)
        ANYCHIP_TILE(5) ANYCHIP_TILE(6) ANYCHIP_TILE(7) ANYCHIP_TILE(8)
#undef ANYCHIP_TILE
        default: break;
      }
    }
    std::free(tab);
    return;
  }
  // Tiles of at most kMaxPanel tokens, as even as possible; tile i covers tokens
  // [n_tokens * i / tiles, n_tokens * (i + 1) / tiles) and its interleaved activations start at
  // xi + 40 * nb * (first token).
  const int64_t tiles = (n_tokens + kMaxPanel - 1) / kMaxPanel;
  auto* xi = static_cast<uint8_t*>(std::malloc(40 * static_cast<size_t>(nb * n_tokens)));
  auto* panel = static_cast<uint8_t*>(std::aligned_alloc(64, panel_bytes<W>() * static_cast<size_t>(nb)));
  if (!xi || !panel) std::abort();
  for (int64_t i = 0; i < tiles; ++i) {
    const int64_t t0 = n_tokens * i / tiles, t1 = n_tokens * (i + 1) / tiles;
    interleave_tile<W>(x + t0 * x_stride, x_stride, t1 - t0, nb, xi + 40 * nb * t0);
  }
  for (int64_t r0 = row_begin; r0 < row_end; r0 += 16) {
    const int nr = static_cast<int>(min64(16, row_end - r0));
    const auto row_mask = static_cast<__mmask16>((1u << nr) - 1u);
    build_panel<W>(Group(w, row_bytes, r0, nr, nb), nb, panel);
    for (int64_t i = 0; i < tiles; ++i) {
      const int64_t t0 = n_tokens * i / tiles, t1 = n_tokens * (i + 1) / tiles;
      const uint8_t* xt = xi + 40 * nb * t0;
      float* yt = y + t0 * y_stride + r0;
      switch (t1 - t0) {
#define ANYCHIP_TILE(T) \
  case T: panel_tile<W, T, Group::kLanesPermuted>(panel, nb, xt, yt, y_stride, row_mask); break;
        ANYCHIP_TILE(1) ANYCHIP_TILE(2) ANYCHIP_TILE(3) ANYCHIP_TILE(4) ANYCHIP_TILE(5) ANYCHIP_TILE(6)
        ANYCHIP_TILE(7) ANYCHIP_TILE(8) ANYCHIP_TILE(9) ANYCHIP_TILE(10) ANYCHIP_TILE(11) ANYCHIP_TILE(12)
#undef ANYCHIP_TILE
        default: break;
      }
    }
  }
  std::free(panel);
  std::free(xi);
}

template <class W>
void gemm(const uint8_t* w, size_t row_bytes, int64_t n, const uint8_t* x, size_t x_stride, int64_t n_tokens,
          float* y, size_t y_stride, int64_t row_begin, int64_t row_end) {
  gemm_groups<W, RowGroup<W>>(w, row_bytes, n, x, x_stride, n_tokens, y, y_stride, row_begin, row_end);
}

template <class W>
void gemm_packed(const uint8_t* w, size_t row_bytes, int64_t n, const uint8_t* x, size_t x_stride, int64_t n_tokens,
                 float* y, size_t y_stride, int64_t row_begin, int64_t row_end) {
  if (row_begin % 16 != 0) std::abort();  // packed groups start every 16 rows
  gemm_groups<W, PackedGroup<W>>(w, row_bytes, n, x, x_stride, n_tokens, y, y_stride, row_begin, row_end);
}

template <class W>
PackedKernels packed() {
  return {pack<W>, gemm_packed<W>, unpack_row<W>};
}

}  // namespace

Block32Table block32_avx512vnni_table() {
  return {quantize_q8<false>, quantize_q8<true>, gemm<Q4_0>, gemm<Q4_1>, gemm<Q5_0>, gemm<Q5_1>, gemm<Q8_0>,
          packed<Q4_0>(), packed<Q4_1>(), packed<Q5_0>(), packed<Q5_1>(), packed<Q8_0>()};
}

}  // namespace anychip::cpu
