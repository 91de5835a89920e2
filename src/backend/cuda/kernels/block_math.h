#pragma once
// Per-type arithmetic on GGUF weight blocks, shared by the CUDA kernels and the host unit tests.
// Two views of a block:
//  - element(): one weight as f32, by the same float operations in the same order as
//    quant/dequantize.cpp, so get_rows reproduces the CPU reference bit for bit;
//  - unpack(): 32 consecutive weights as small integers q with one scale and offset per 16
//    (weight = scale * q - offset), the form the matrix-vector kernels take dot products of with
//    8-bit activations (dp4a) and the dequantize-to-f16 kernels expand.
// Byte offsets follow the packed structs of quant/blocks.h; static_asserts pin the block sizes.
#include <cstdint>

#include "backend/cuda/kernels/hd.h"
#include "gguf/ggml_type.h"

namespace anychip::cuda::blocks {

// 32 weights: byte b of q[j] is the quant of weight 4j + b (all fit a signed byte).
struct Chunk {
  int32_t q[8];
  float scale[2];
  float offset[2];
};

// 32 activations rounded to 8 bits: x_i ~= d * q_i, with the exact sums of q over each half.
struct alignas(16) XChunk {
  float d;
  float sum[2];
  float unused;
};

// Q4_K/Q5_K six-bit scale and min of sub-block j (see quant/kscales.h).
ANYCHIP_HD void scale_min_k4(int j, const uint8_t* q, int& scale, int& min) {
  if (j < 4) {
    scale = q[j] & 63;
    min = q[j + 4] & 63;
  } else {
    scale = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// Q3_K six-bit scale of sub-block j, still biased by 32 (see quant/kscales.h).
ANYCHIP_HD int scale_q3_k(int j, const uint8_t* q) {
  const int low = j < 8 ? (q[j] & 0xF) : (q[j - 8] >> 4);
  const int high = (q[8 + j % 4] >> (2 * (j / 4))) & 3;
  return low | (high << 4);
}

// Bits 0..3 of `bits` to bit 4 of bytes 0..3 (the fifth bit of four Q5 quants).
ANYCHIP_HD uint32_t spread_fifth_bits(uint32_t bits) {
  return ((bits & 1u) << 4) | ((bits & 2u) << 11) | ((bits & 4u) << 18) | ((bits & 8u) << 25);
}

ANYCHIP_HD float half_at(const uint8_t* p) { return hd::half_to_float(hd::load_u16(p)); }

template <GgmlType T>
struct Format;

template <>
struct Format<GgmlType::F32> {
  static constexpr int kElems = 1, kBytes = 4;
  ANYCHIP_HD static float element(const uint8_t* b, int) { return hd::bits_float(hd::load_u32(b)); }
};

template <>
struct Format<GgmlType::F16> {
  static constexpr int kElems = 1, kBytes = 2;
  ANYCHIP_HD static float element(const uint8_t* b, int) { return half_at(b); }
};

template <>
struct Format<GgmlType::BF16> {
  static constexpr int kElems = 1, kBytes = 2;
  ANYCHIP_HD static float element(const uint8_t* b, int) { return hd::bf16_to_float(hd::load_u16(b)); }
};

template <>
struct Format<GgmlType::Q4_0> {
  static constexpr int kElems = 32, kBytes = 18;
  static constexpr bool kOffset = true;
  ANYCHIP_HD static float element(const uint8_t* b, int i) {
    const uint8_t byte = b[2 + (i & 15)];
    const int q = (i < 16 ? (byte & 0xF) : (byte >> 4)) - 8;
    return static_cast<float>(q) * half_at(b);
  }
  ANYCHIP_HD static void unpack(const uint8_t* b, int, Chunk& c) {
    const float d = half_at(b);
    for (int j = 0; j < 4; ++j) {
      const uint32_t w = hd::load_u32(b + 2 + 4 * j);
      c.q[j] = static_cast<int32_t>(w & 0x0F0F0F0Fu);
      c.q[j + 4] = static_cast<int32_t>((w >> 4) & 0x0F0F0F0Fu);
    }
    c.scale[0] = c.scale[1] = d;
    c.offset[0] = c.offset[1] = 8.0f * d;
  }
};

template <>
struct Format<GgmlType::Q4_1> {
  static constexpr int kElems = 32, kBytes = 20;
  static constexpr bool kOffset = true;
  ANYCHIP_HD static float element(const uint8_t* b, int i) {
    const uint8_t byte = b[4 + (i & 15)];
    const int q = i < 16 ? (byte & 0xF) : (byte >> 4);
    const float scaled = static_cast<float>(q) * half_at(b);
    return scaled + half_at(b + 2);
  }
  ANYCHIP_HD static void unpack(const uint8_t* b, int, Chunk& c) {
    for (int j = 0; j < 4; ++j) {
      const uint32_t w = hd::load_u32(b + 4 + 4 * j);
      c.q[j] = static_cast<int32_t>(w & 0x0F0F0F0Fu);
      c.q[j + 4] = static_cast<int32_t>((w >> 4) & 0x0F0F0F0Fu);
    }
    c.scale[0] = c.scale[1] = half_at(b);
    c.offset[0] = c.offset[1] = -half_at(b + 2);
  }
};

template <>
struct Format<GgmlType::Q5_0> {
  static constexpr int kElems = 32, kBytes = 22;
  static constexpr bool kOffset = true;
  ANYCHIP_HD static float element(const uint8_t* b, int i) {
    const uint32_t qh = hd::load_u32(b + 2);
    const uint8_t byte = b[6 + (i & 15)];
    const int low = i < 16 ? (byte & 0xF) : (byte >> 4);
    const int q = (low | static_cast<int>(((qh >> i) & 1u) << 4)) - 16;
    return static_cast<float>(q) * half_at(b);
  }
  ANYCHIP_HD static void unpack(const uint8_t* b, int, Chunk& c) {
    const uint32_t qh = hd::load_u32(b + 2);
    for (int j = 0; j < 4; ++j) {
      const uint32_t w = hd::load_u32(b + 6 + 4 * j);
      c.q[j] = static_cast<int32_t>((w & 0x0F0F0F0Fu) | spread_fifth_bits((qh >> (4 * j)) & 0xFu));
      c.q[j + 4] = static_cast<int32_t>(((w >> 4) & 0x0F0F0F0Fu) | spread_fifth_bits((qh >> (16 + 4 * j)) & 0xFu));
    }
    const float d = half_at(b);
    c.scale[0] = c.scale[1] = d;
    c.offset[0] = c.offset[1] = 16.0f * d;
  }
};

template <>
struct Format<GgmlType::Q5_1> {
  static constexpr int kElems = 32, kBytes = 24;
  static constexpr bool kOffset = true;
  ANYCHIP_HD static float element(const uint8_t* b, int i) {
    const uint32_t qh = hd::load_u32(b + 4);
    const uint8_t byte = b[8 + (i & 15)];
    const int low = i < 16 ? (byte & 0xF) : (byte >> 4);
    const int q = low | static_cast<int>(((qh >> i) & 1u) << 4);
    const float scaled = static_cast<float>(q) * half_at(b);
    return scaled + half_at(b + 2);
  }
  ANYCHIP_HD static void unpack(const uint8_t* b, int, Chunk& c) {
    const uint32_t qh = hd::load_u32(b + 4);
    for (int j = 0; j < 4; ++j) {
      const uint32_t w = hd::load_u32(b + 8 + 4 * j);
      c.q[j] = static_cast<int32_t>((w & 0x0F0F0F0Fu) | spread_fifth_bits((qh >> (4 * j)) & 0xFu));
      c.q[j + 4] = static_cast<int32_t>(((w >> 4) & 0x0F0F0F0Fu) | spread_fifth_bits((qh >> (16 + 4 * j)) & 0xFu));
    }
    c.scale[0] = c.scale[1] = half_at(b);
    c.offset[0] = c.offset[1] = -half_at(b + 2);
  }
};

template <>
struct Format<GgmlType::Q8_0> {
  static constexpr int kElems = 32, kBytes = 34;
  static constexpr bool kOffset = false;
  ANYCHIP_HD static float element(const uint8_t* b, int i) {
    return static_cast<float>(static_cast<int8_t>(b[2 + i])) * half_at(b);
  }
  ANYCHIP_HD static void unpack(const uint8_t* b, int, Chunk& c) {
    for (int j = 0; j < 8; ++j) c.q[j] = static_cast<int32_t>(hd::load_u32(b + 2 + 4 * j));
    c.scale[0] = c.scale[1] = half_at(b);
    c.offset[0] = c.offset[1] = 0.0f;
  }
};

// K-quant super-blocks of 256: unpack's `sub` is the 32-weight chunk 0..7 within the block.
template <>
struct Format<GgmlType::Q2_K> {
  static constexpr int kElems = 256, kBytes = 84;
  static constexpr bool kOffset = true;
  static constexpr int kScales = 0, kQs = 16, kD = 80, kDmin = 82;
  ANYCHIP_HD static float element(const uint8_t* b, int i) {
    const int half = i / 128, k = (i % 128) / 32, l = i % 32;
    const uint8_t sc = b[kScales + i / 16];
    const float dl = half_at(b + kD) * static_cast<float>(sc & 0xF);
    const float ml = half_at(b + kDmin) * static_cast<float>(sc >> 4);
    const int q = (b[kQs + 32 * half + l] >> (2 * k)) & 3;
    const float scaled = dl * static_cast<float>(q);
    return scaled - ml;
  }
  ANYCHIP_HD static void unpack(const uint8_t* b, int sub, Chunk& c) {
    const int half = sub / 4, k = sub % 4;
    for (int j = 0; j < 8; ++j) {
      c.q[j] = static_cast<int32_t>((hd::load_u32(b + kQs + 32 * half + 4 * j) >> (2 * k)) & 0x03030303u);
    }
    const float d = half_at(b + kD), dmin = half_at(b + kDmin);
    for (int h = 0; h < 2; ++h) {
      const uint8_t sc = b[kScales + 2 * sub + h];
      c.scale[h] = d * static_cast<float>(sc & 0xF);
      c.offset[h] = dmin * static_cast<float>(sc >> 4);
    }
  }
};

template <>
struct Format<GgmlType::Q3_K> {
  static constexpr int kElems = 256, kBytes = 110;
  static constexpr bool kOffset = true;
  static constexpr int kHmask = 0, kQs = 32, kScales = 96, kD = 108;
  ANYCHIP_HD static float element(const uint8_t* b, int i) {
    const int half = i / 128, k = (i % 128) / 32, l = i % 32;
    const float dl = half_at(b + kD) * static_cast<float>(scale_q3_k(i / 16, b + kScales) - 32);
    const int low = (b[kQs + 32 * half + l] >> (2 * k)) & 3;
    const bool high = (b[kHmask + l] >> (i / 32)) & 1;
    return dl * static_cast<float>(low - (high ? 0 : 4));
  }
  ANYCHIP_HD static void unpack(const uint8_t* b, int sub, Chunk& c) {
    const int half = sub / 4, k = sub % 4;
    for (int j = 0; j < 8; ++j) {
      const uint32_t low = (hd::load_u32(b + kQs + 32 * half + 4 * j) >> (2 * k)) & 0x03030303u;
      const uint32_t high = (hd::load_u32(b + kHmask + 4 * j) >> sub) & 0x01010101u;
      c.q[j] = static_cast<int32_t>(low | (high << 2));  // low + 4 * high: weight = scale * (q - 4)
    }
    const float d = half_at(b + kD);
    for (int h = 0; h < 2; ++h) {
      c.scale[h] = d * static_cast<float>(scale_q3_k(2 * sub + h, b + kScales) - 32);
      c.offset[h] = 4.0f * c.scale[h];
    }
  }
};

template <>
struct Format<GgmlType::Q4_K> {
  static constexpr int kElems = 256, kBytes = 144;
  static constexpr bool kOffset = true;
  static constexpr int kD = 0, kDmin = 2, kScales = 4, kQs = 16;
  ANYCHIP_HD static float element(const uint8_t* b, int i) {
    const int sub = i / 32, l = i % 32;
    int sc = 0, m = 0;
    scale_min_k4(sub, b + kScales, sc, m);
    const float dl = half_at(b + kD) * static_cast<float>(sc);
    const float ml = half_at(b + kDmin) * static_cast<float>(m);
    const uint8_t byte = b[kQs + 32 * (sub / 2) + l];
    const int q = sub % 2 == 0 ? (byte & 0xF) : (byte >> 4);
    const float scaled = dl * static_cast<float>(q);
    return scaled - ml;
  }
  ANYCHIP_HD static void unpack(const uint8_t* b, int sub, Chunk& c) {
    for (int j = 0; j < 8; ++j) {
      c.q[j] = static_cast<int32_t>((hd::load_u32(b + kQs + 32 * (sub / 2) + 4 * j) >> (4 * (sub % 2))) & 0x0F0F0F0Fu);
    }
    int sc = 0, m = 0;
    scale_min_k4(sub, b + kScales, sc, m);
    c.scale[0] = c.scale[1] = half_at(b + kD) * static_cast<float>(sc);
    c.offset[0] = c.offset[1] = half_at(b + kDmin) * static_cast<float>(m);
  }
};

template <>
struct Format<GgmlType::Q5_K> {
  static constexpr int kElems = 256, kBytes = 176;
  static constexpr bool kOffset = true;
  static constexpr int kD = 0, kDmin = 2, kScales = 4, kQh = 16, kQs = 48;
  ANYCHIP_HD static float element(const uint8_t* b, int i) {
    const int sub = i / 32, l = i % 32;
    int sc = 0, m = 0;
    scale_min_k4(sub, b + kScales, sc, m);
    const float dl = half_at(b + kD) * static_cast<float>(sc);
    const float ml = half_at(b + kDmin) * static_cast<float>(m);
    const uint8_t byte = b[kQs + 32 * (sub / 2) + l];
    const int low = sub % 2 == 0 ? (byte & 0xF) : (byte >> 4);
    const int high = (b[kQh + l] >> sub) & 1;
    const float scaled = dl * static_cast<float>(low + 16 * high);
    return scaled - ml;
  }
  ANYCHIP_HD static void unpack(const uint8_t* b, int sub, Chunk& c) {
    for (int j = 0; j < 8; ++j) {
      const uint32_t low = (hd::load_u32(b + kQs + 32 * (sub / 2) + 4 * j) >> (4 * (sub % 2))) & 0x0F0F0F0Fu;
      const uint32_t high = (hd::load_u32(b + kQh + 4 * j) >> sub) & 0x01010101u;
      c.q[j] = static_cast<int32_t>(low | (high << 4));
    }
    int sc = 0, m = 0;
    scale_min_k4(sub, b + kScales, sc, m);
    c.scale[0] = c.scale[1] = half_at(b + kD) * static_cast<float>(sc);
    c.offset[0] = c.offset[1] = half_at(b + kDmin) * static_cast<float>(m);
  }
};

template <>
struct Format<GgmlType::Q6_K> {
  static constexpr int kElems = 256, kBytes = 210;
  static constexpr bool kOffset = true;
  static constexpr int kQl = 0, kQh = 128, kScales = 192, kD = 208;
  ANYCHIP_HD static float element(const uint8_t* b, int i) {
    const int half = i / 128, k = (i % 128) / 32, l = i % 32;
    const uint8_t lbyte = b[kQl + 64 * half + 32 * (k & 1) + l];
    const int low = k < 2 ? (lbyte & 0xF) : (lbyte >> 4);
    const int high = (b[kQh + 32 * half + l] >> (2 * k)) & 3;
    const float ds = half_at(b + kD) * static_cast<float>(static_cast<int8_t>(b[kScales + i / 16]));
    return ds * static_cast<float>((low | (high << 4)) - 32);
  }
  ANYCHIP_HD static void unpack(const uint8_t* b, int sub, Chunk& c) {
    const int half = sub / 4, k = sub % 4;
    for (int j = 0; j < 8; ++j) {
      const uint32_t low = (hd::load_u32(b + kQl + 64 * half + 32 * (k & 1) + 4 * j) >> (4 * (k / 2))) & 0x0F0F0F0Fu;
      const uint32_t high = (hd::load_u32(b + kQh + 32 * half + 4 * j) >> (2 * k)) & 0x03030303u;
      c.q[j] = static_cast<int32_t>(low | (high << 4));  // weight = scale * (q - 32)
    }
    const float d = half_at(b + kD);
    for (int h = 0; h < 2; ++h) {
      c.scale[h] = d * static_cast<float>(static_cast<int8_t>(b[kScales + 2 * sub + h]));
      c.offset[h] = 32.0f * c.scale[h];
    }
  }
};

// Weight e of a row, exactly as the CPU reference dequantizes it.
template <GgmlType T>
ANYCHIP_HD float row_element(const uint8_t* row, int64_t e) {
  using F = Format<T>;
  return F::element(row + (e / F::kElems) * F::kBytes, static_cast<int>(e % F::kElems));
}

// Weights 32c .. 32c+31 of a row (quantized types only).
template <GgmlType T>
ANYCHIP_HD void unpack_chunk(const uint8_t* row, int64_t c, Chunk& out) {
  using F = Format<T>;
  constexpr int kChunksPerBlock = F::kElems / 32;
  F::unpack(row + (c / kChunksPerBlock) * F::kBytes, static_cast<int>(c % kChunksPerBlock), out);
}

ANYCHIP_HD float chunk_value(const Chunk& c, int i) {
  const int q = static_cast<int8_t>(static_cast<uint32_t>(c.q[i / 4]) >> (8 * (i % 4)));
  return c.scale[i / 16] * static_cast<float>(q) - c.offset[i / 16];
}

// dot(weights, d * xq) of one chunk; xq: the chunk's 32 activation quants, 4 per int.
template <bool kOffset>
ANYCHIP_HD float dot_chunk(const Chunk& w, const int32_t* xq, const XChunk& x) {
  int s0 = 0, s1 = 0;
  for (int j = 0; j < 4; ++j) s0 = hd::dp4a(w.q[j], xq[j], s0);
  for (int j = 4; j < 8; ++j) s1 = hd::dp4a(w.q[j], xq[j], s1);
  float r = w.scale[0] * static_cast<float>(s0) + w.scale[1] * static_cast<float>(s1);
  if constexpr (kOffset) r -= w.offset[0] * x.sum[0] + w.offset[1] * x.sum[1];
  return r * x.d;
}

// The 8-bit rounding of a run of 32 activations, as llama.cpp's x86 build (and so the CPU
// reference, ref::round_activations) computes it: d = amax/127 stored as f16, q = rint(x*127/amax).
struct Q8Params {
  float d;   // the f16-rounded scale
  float id;  // the multiplier that gives q
};

ANYCHIP_HD Q8Params q8_params(float amax) {
  return {hd::round_to_half(amax / 127.0f), amax != 0.0f ? 127.0f / amax : 0.0f};
}

ANYCHIP_HD int q8_quant(float x, const Q8Params& p) { return static_cast<int>(hd::round_even(x * p.id)); }

// Serial version of what the quantize kernel does with one warp per chunk.
ANYCHIP_HD void quantize_chunk(const float* x, int8_t* q, XChunk& meta) {
  float amax = 0.0f;
  for (int i = 0; i < 32; ++i) amax = x[i] < 0 ? (-x[i] > amax ? -x[i] : amax) : (x[i] > amax ? x[i] : amax);
  const Q8Params p = q8_params(amax);
  int sum[2] = {0, 0};
  for (int i = 0; i < 32; ++i) {
    const int v = q8_quant(x[i], p);
    q[i] = static_cast<int8_t>(v);
    sum[i / 16] += v;
  }
  meta = {p.d, {static_cast<float>(sum[0]), static_cast<float>(sum[1])}, 0.0f};
}

}  // namespace anychip::cuda::blocks
