// Weight decoding from the GGUF block layouts (see src/quant/blocks.h), reading binding 0 via
// bytes.glsl. Type ids are ggml's. Quantized rows decode 16 elements at a time ("chunks": every
// block size is a multiple of 16); float rows decode one element at a time since their length
// need not be. The arithmetic follows ggml's dequantize_row_* order.
const uint T_F32 = 0, T_F16 = 1, T_Q4_0 = 2, T_Q4_1 = 3, T_Q5_0 = 6, T_Q5_1 = 7, T_Q8_0 = 8,
           T_Q2_K = 10, T_Q3_K = 11, T_Q4_K = 12, T_Q5_K = 13, T_Q6_K = 14, T_BF16 = 30;

bool is_float_type(uint type) { return type == T_F32 || type == T_F16 || type == T_BF16; }

// Element i of a float row starting at byte `row` (F32 rows are 4-byte aligned).
float load_float(uint type, uint row, uint i) {
  if (type == T_F32) return uintBitsToFloat(b32[(row >> 2) + i]);
  if (type == T_F16) return ld_f16(row + 2u * i);
  return bf16_to_float(ld16(row + 2u * i));
}

// 16 consecutive bytes at an even offset, as four little-endian words.
void load16(uint off, out uint w[4]) {
  [[unroll]] for (uint k = 0; k < 4; ++k) w[k] = ld32(off + 4u * k);
}

uint byte_of(uint w[4], uint j) { return (w[j >> 2] >> ((j & 3u) * 8u)) & 0xffu; }

// Q4_K / Q5_K: the 6-bit scale and min of sub-block j (0..7) from the 12 bytes at `base`.
void scale_min_k4(uint base, uint j, out float sc, out float mn) {
  if (j < 4u) {
    sc = float(ld8(base + j) & 63u);
    mn = float(ld8(base + j + 4u) & 63u);
  } else {
    sc = float((ld8(base + j + 4u) & 0xFu) | ((ld8(base + j - 4u) >> 6) << 4));
    mn = float((ld8(base + j + 4u) >> 4) | ((ld8(base + j) >> 6) << 4));
  }
}

// Elements 16*chunk .. 16*chunk+15 of the quantized row starting at byte `row`.
void dequant16(uint type, uint row, uint chunk, out float v[16]) {
  uint w[4];
  if (type == T_Q4_0 || type == T_Q4_1 || type == T_Q5_0 || type == T_Q5_1) {
    // Block of 32: byte j holds element j (low nibble) and j+16 (high nibble).
    const uint hi = chunk & 1u;
    const uint bb = type == T_Q4_0 ? 18u : type == T_Q4_1 ? 20u : type == T_Q5_0 ? 22u : 24u;
    const uint base = row + (chunk >> 1) * bb;
    const float d = ld_f16(base);
    const bool has_min = type == T_Q4_1 || type == T_Q5_1;
    const float m = has_min ? ld_f16(base + 2u) : 0.0;
    const bool five = type == T_Q5_0 || type == T_Q5_1;
    const uint qh = five ? ld32(base + (has_min ? 4u : 2u)) : 0u;
    load16(base + (type == T_Q4_0 ? 2u : type == T_Q4_1 ? 4u : type == T_Q5_0 ? 6u : 8u), w);
    [[unroll]] for (uint j = 0; j < 16; ++j) {
      uint q = hi == 1u ? (byte_of(w, j) >> 4) : (byte_of(w, j) & 0xFu);
      if (five) q |= ((qh >> (j + 16u * hi)) & 1u) << 4;
      v[j] = has_min ? float(q) * d + m : float(int(q) - (five ? 16 : 8)) * d;
    }
  } else if (type == T_Q8_0) {
    const uint base = row + (chunk >> 1) * 34u;
    const float d = ld_f16(base);
    load16(base + 2u + (chunk & 1u) * 16u, w);
    [[unroll]] for (uint j = 0; j < 16; ++j) v[j] = float(int(byte_of(w, j) << 24) >> 24) * d;
  } else if (type == T_Q2_K || type == T_Q3_K || type == T_Q6_K) {
    // Sub-blocks of 16: chunk c of a 256-block is sub-block c. In each 128-element half, element
    // 32j + l sits in bits 2j..2j+1 of byte l.
    const uint c = chunk & 15u;
    const uint half_ = c >> 3, j = (c & 7u) >> 1, l0 = (c & 1u) * 16u;
    if (type == T_Q2_K) {
      const uint base = row + (chunk >> 4) * 84u;
      const uint sc = ld8(base + c);
      const float dl = ld_f16(base + 80u) * float(sc & 0xFu);
      const float ml = ld_f16(base + 82u) * float(sc >> 4);
      load16(base + 16u + half_ * 32u + l0, w);
      [[unroll]] for (uint l = 0; l < 16; ++l) v[l] = dl * float((byte_of(w, l) >> (2u * j)) & 3u) - ml;
    } else if (type == T_Q3_K) {
      const uint base = row + (chunk >> 4) * 110u;
      const uint lo = c < 8u ? (ld8(base + 96u + c) & 0xFu) : (ld8(base + 96u + c - 8u) >> 4);
      const uint hi2 = (ld8(base + 96u + 8u + (c & 3u)) >> (2u * (c >> 2))) & 3u;
      const float dl = ld_f16(base + 108u) * float(int(lo | (hi2 << 4)) - 32);
      uint hm[4];
      load16(base + l0, hm);
      load16(base + 32u + half_ * 32u + l0, w);
      const uint bit = half_ * 4u + j;
      [[unroll]] for (uint l = 0; l < 16; ++l) {
        const int q = int((byte_of(w, l) >> (2u * j)) & 3u) - (((byte_of(hm, l) >> bit) & 1u) != 0u ? 0 : 4);
        v[l] = dl * float(q);
      }
    } else {  // Q6_K: 4 low bits from ql, 2 high bits from qh, signed 8-bit scale per sub-block
      const uint base = row + (chunk >> 4) * 210u;
      const float d = ld_f16(base + 208u) * float(ld8_signed(base + 192u + c));
      uint hb[4];
      load16(base + half_ * 64u + l0 + 32u * (j & 1u), w);
      load16(base + 128u + half_ * 32u + l0, hb);
      [[unroll]] for (uint l = 0; l < 16; ++l) {
        const uint lowq = j >= 2u ? (byte_of(w, l) >> 4) : (byte_of(w, l) & 0xFu);
        const uint q = lowq | (((byte_of(hb, l) >> (2u * j)) & 3u) << 4);
        v[l] = d * float(int(q) - 32);
      }
    }
  } else {  // Q4_K, Q5_K: sub-blocks of 32; 64-element group g uses 32 bytes (low, then high nibbles)
    const bool five = type == T_Q5_K;
    const uint base = row + (chunk >> 4) * (five ? 176u : 144u);
    const uint c = chunk & 15u;
    const uint sub = c >> 1, g = sub >> 1, l0 = (c & 1u) * 16u;
    float sc, mn;
    scale_min_k4(base + 4u, sub, sc, mn);
    const float d1 = ld_f16(base) * sc;
    const float m1 = ld_f16(base + 2u) * mn;
    load16(base + (five ? 48u : 16u) + 32u * g + l0, w);
    uint hb[4];
    if (five) load16(base + 16u + l0, hb);
    [[unroll]] for (uint l = 0; l < 16; ++l) {
      uint q = (sub & 1u) != 0u ? (byte_of(w, l) >> 4) : (byte_of(w, l) & 0xFu);
      if (five && ((byte_of(hb, l) >> sub) & 1u) != 0u) q += 16u;
      v[l] = d1 * float(q) - m1;
    }
  }
}
