#version 450
// y[t][row] = dot(weight row, x[t]) for every weight type: NT token rows per workgroup (1..8),
// so each weight is read and decoded once for all of them. Decode (a few tokens) is a single
// dispatch of this shader with NT = the token count, where reading the weights is the whole cost
// and every load must be wide and coalesced; prefill is dispatched as groups of 8 tokens along z
// plus one dispatch for the remainder. A token's result never depends on NT or on which other
// tokens share its workgroup (same units, same order, same reduction), so a sequence gets the
// same logits alone as inside a batch.
//
// Layout. A workgroup owns ROWS consecutive weight rows. With subgroup arithmetic each subgroup
// takes one row at a time (looping when the device's subgroups are fewer than ROWS) and sums it
// with one subgroupAdd, no shared memory or barriers; without it, each row gets a fixed slice of
// WG / ROWS invocations and a shared-memory tree. Inside a row, invocation `lane` takes "units"
// lane, lane + stride, ...: a unit is 32 weights (one Q4_0..Q8_0 block, or 1/8 of a K-quant
// super-block cut so the 8 units of a super-block read 8 consecutive pieces of its quant bytes)
// or 8 weights of a float row. So neighbouring invocations read neighbouring bytes, and each unit
// is fetched with 32-bit loads (two-byte-aligned blocks are funnel-shifted, see ld128), decoded
// once into registers and applied to all NT token rows of x, read as vec4 when aligned.
#include "common.glsl"
#include "bytes.glsl"
#include "dequant.glsl"

layout(constant_id = 1) const uint TYPE = 0;
layout(constant_id = 2) const uint NT = 1;       // token rows, each one an output row of y
// Activation rounding that matches the CPU backend for half-precision weights: 0 none, 1 f16,
// 2 bf16 (llama.cpp converts activations to the weight's half type before the dot product).
layout(constant_id = 3) const uint ROUND_X = 0;
layout(constant_id = 4) const uint ROWS = 4;     // weight rows per workgroup (a power of two <= WG)
layout(constant_id = 5) const uint X_VEC4 = 0;   // 1: x_off and x_stride are multiples of 4 floats

layout(binding = 1) readonly buffer X { float x[]; };
layout(binding = 1) readonly buffer X4 { vec4 x4[]; };
layout(binding = 2) writeonly buffer Y { float y[]; };

layout(push_constant) uniform Push {
  uint w_off, w_stride;  // bytes
  uint x_off, x_stride;  // floats
  uint y_off, y_stride;  // floats
  uint cols, rows;
} p;

// ---- loads -------------------------------------------------------------------------------------

// 16 / 8 / 4 bytes at a two-byte-aligned offset as little-endian words. Every block layout is
// two-byte aligned, so a word-aligned start needs plain 32-bit loads and the other case one more
// word and a funnel shift; both read only words that hold requested bytes.
uvec4 ld128(uint off) {
  const uint i = off >> 2;
  uvec4 v = uvec4(b32[i], b32[i + 1u], b32[i + 2u], b32[i + 3u]);
  if ((off & 2u) != 0u) {
    const uint e = b32[i + 4u];
    v = uvec4((v.x >> 16) | (v.y << 16), (v.y >> 16) | (v.z << 16), (v.z >> 16) | (v.w << 16), (v.w >> 16) | (e << 16));
  }
  return v;
}

uvec2 ld64(uint off) {
  const uint i = off >> 2;
  uvec2 v = uvec2(b32[i], b32[i + 1u]);
  if ((off & 2u) != 0u) {
    const uint e = b32[i + 2u];
    v = uvec2((v.x >> 16) | (v.y << 16), (v.y >> 16) | (e << 16));
  }
  return v;
}

uint ldw(uint off) {
  const uint i = off >> 2;
  return (off & 2u) == 0u ? b32[i] : (b32[i] >> 16) | (b32[i + 1u] << 16);
}

uint byte4(uvec4 v, uint k) { return (v[k >> 2] >> ((k & 3u) * 8u)) & 0xffu; }
uint byte2(uvec2 v, uint k) { return (v[k >> 2] >> ((k & 3u) * 8u)) & 0xffu; }
float lo_half(uint w) { return unpackHalf2x16(w).x; }

// float(int(q) - bias) for a small unsigned q, exactly: q in the mantissa of 2^23 then one
// subtraction, instead of an int-to-float conversion (a quarter-rate instruction on NVIDIA) per
// weight.
float qf(uint q, float bias) { return uintBitsToFloat(0x4B000000u | q) - (8388608.0 + bias); }
float hi_half(uint w) { return unpackHalf2x16(w).y; }

// Four consecutive activations starting at float index i (a multiple of 4 when X_VEC4).
vec4 xv4(uint i) {
  vec4 v = X_VEC4 == 1u ? x4[i >> 2] : vec4(x[i], x[i + 1u], x[i + 2u], x[i + 3u]);
  if (ROUND_X == 1u) v = vec4(round_to_half(v.x), round_to_half(v.y), round_to_half(v.z), round_to_half(v.w));
  if (ROUND_X == 2u) v = vec4(round_to_bf16(v.x), round_to_bf16(v.y), round_to_bf16(v.z), round_to_bf16(v.w));
  return v;
}

float xval(uint i) {
  const float v = x[i];
  return ROUND_X == 1u ? round_to_half(v) : ROUND_X == 2u ? round_to_bf16(v) : v;
}

// ---- units -------------------------------------------------------------------------------------

// Q4_K / Q5_K: scale and min of sub-block j from the block's first 16 bytes (d, dmin, scales).
void scale_min(uvec4 hdr, uint j, out float sc, out float mn) {
  const uint b = 4u;  // scales start at byte 4
  if (j < 4u) {
    sc = float(byte4(hdr, b + j) & 63u);
    mn = float(byte4(hdr, b + j + 4u) & 63u);
  } else {
    sc = float((byte4(hdr, b + j + 4u) & 0xFu) | ((byte4(hdr, b + j - 4u) >> 6) << 4));
    mn = float((byte4(hdr, b + j + 4u) >> 4) | ((byte4(hdr, b + j) >> 6) << 4));
  }
}

// The 32 weights of quantized unit u of the row at byte `row`, as 4 runs of 8 consecutive
// elements starting at element xo[r] of the row. Arithmetic as dequant.glsl (ggml's order).
void decode_unit(uint row, uint u, out float w[32], out uint xo[4]) {
  if (TYPE == T_Q4_0 || TYPE == T_Q4_1 || TYPE == T_Q5_0 || TYPE == T_Q5_1 || TYPE == T_Q8_0) {
    [[unroll]] for (uint r = 0; r < 4; ++r) xo[r] = 32u * u + 8u * r;
  }
  if (TYPE == T_Q4_0 || TYPE == T_Q4_1 || TYPE == T_Q5_0 || TYPE == T_Q5_1) {
    // Block of 32: byte j of qs holds element j (low nibble) and j + 16 (high nibble).
    const bool has_min = TYPE == T_Q4_1 || TYPE == T_Q5_1;
    const bool five = TYPE == T_Q5_0 || TYPE == T_Q5_1;
    const uint bb = TYPE == T_Q4_0 ? 18u : TYPE == T_Q4_1 ? 20u : TYPE == T_Q5_0 ? 22u : 24u;
    const uint base = row + u * bb;
    const uint dm = has_min ? ldw(base) : ld16(base);
    const float d = lo_half(dm);
    const float m = has_min ? hi_half(dm) : 0.0;
    const uint qh = five ? ldw(base + (has_min ? 4u : 2u)) : 0u;
    const uvec4 qs = ld128(base + (TYPE == T_Q4_0 ? 2u : TYPE == T_Q4_1 ? 4u : TYPE == T_Q5_0 ? 6u : 8u));
    [[unroll]] for (uint j = 0; j < 16; ++j) {
      uint q0 = byte4(qs, j) & 0xFu, q1 = byte4(qs, j) >> 4;
      if (five) {
        q0 |= ((qh >> j) & 1u) << 4;
        q1 |= ((qh >> (j + 16u)) & 1u) << 4;
      }
      w[j] = has_min ? qf(q0, 0.0) * d + m : qf(q0, five ? 16.0 : 8.0) * d;
      w[j + 16] = has_min ? qf(q1, 0.0) * d + m : qf(q1, five ? 16.0 : 8.0) * d;
    }
  } else if (TYPE == T_Q8_0) {
    const uint base = row + u * 34u;
    const float d = ld_f16(base);
    const uvec4 a = ld128(base + 2u), b = ld128(base + 18u);
    [[unroll]] for (uint j = 0; j < 16; ++j) {
      w[j] = qf(byte4(a, j) ^ 0x80u, 128.0) * d;  // signed byte b as (b + 128) - 128
      w[j + 16] = qf(byte4(b, j) ^ 0x80u, 128.0) * d;
    }
  } else if (TYPE == T_Q2_K || TYPE == T_Q3_K || TYPE == T_Q6_K) {
    // 256-element super-block; element 128h + 32j + l uses bits 2j of byte l of the h-th quant
    // run. Unit v takes l in [l0, l0 + 8) of half h for all four j: 8 consecutive bytes per run.
    const uint sb = u >> 3, v = u & 7u, h = v >> 2, l0 = (v & 3u) * 8u;
    [[unroll]] for (uint j = 0; j < 4; ++j) xo[j] = 256u * sb + 128u * h + 32u * j + l0;
    const uint s0 = 8u * h + (l0 >> 4);  // the 16-element sub-block of j = 0; j adds 2j
    if (TYPE == T_Q2_K) {
      const uint base = row + sb * 84u;
      const uvec4 sc = ld128(base);
      const uvec2 qs = ld64(base + 16u + 32u * h + l0);
      const uint dd = ldw(base + 80u);
      [[unroll]] for (uint j = 0; j < 4; ++j) {
        const uint s = byte4(sc, s0 + 2u * j);
        const float dl = lo_half(dd) * float(s & 0xFu), ml = hi_half(dd) * float(s >> 4);
        [[unroll]] for (uint l = 0; l < 8; ++l) w[8u * j + l] = dl * qf((byte2(qs, l) >> (2u * j)) & 3u, 0.0) - ml;
      }
    } else if (TYPE == T_Q3_K) {
      const uint base = row + sb * 110u;
      const uvec2 hm = ld64(base + l0);
      const uvec2 qs = ld64(base + 32u + 32u * h + l0);
      const uvec4 sc = uvec4(ld64(base + 96u), ldw(base + 104u), 0u);  // 12 scale bytes
      const float d = ld_f16(base + 108u);
      [[unroll]] for (uint j = 0; j < 4; ++j) {
        const uint s = s0 + 2u * j;
        const uint lo = s < 8u ? (byte4(sc, s) & 0xFu) : (byte4(sc, s - 8u) >> 4);
        const uint hi2 = (byte4(sc, 8u + (s & 3u)) >> (2u * (s >> 2))) & 3u;
        const float dl = d * float(int(lo | (hi2 << 4)) - 32);
        const uint bit = 4u * h + j;
        [[unroll]] for (uint l = 0; l < 8; ++l) {
          // q - (hmask bit ? 0 : 4) as (q + 4 * bit) - 4
          const uint q = ((byte2(qs, l) >> (2u * j)) & 3u) | (((byte2(hm, l) >> bit) & 1u) << 2);
          w[8u * j + l] = dl * qf(q, 4.0);
        }
      }
    } else {  // Q6_K: low 4 bits from ql (two 32-byte runs per half), 2 high bits from qh
      const uint base = row + sb * 210u;
      const uvec2 qa = ld64(base + 64u * h + l0), qb = ld64(base + 64u * h + 32u + l0);
      const uvec2 qh = ld64(base + 128u + 32u * h + l0);
      const uvec4 sc = ld128(base + 192u);
      const float d = ld_f16(base + 208u);
      [[unroll]] for (uint j = 0; j < 4; ++j) {
        const float dl = d * float(int(byte4(sc, s0 + 2u * j) << 24) >> 24);
        [[unroll]] for (uint l = 0; l < 8; ++l) {
          const uint ql = j == 0u ? byte2(qa, l) & 0xFu : j == 1u ? byte2(qb, l) & 0xFu : j == 2u ? byte2(qa, l) >> 4 : byte2(qb, l) >> 4;
          const uint q = ql | (((byte2(qh, l) >> (2u * j)) & 3u) << 4);
          w[8u * j + l] = dl * qf(q, 32.0);
        }
      }
    }
  } else {  // Q4_K, Q5_K: 64-element group g is 32 bytes of qs, low nibbles sub-block 2g, high 2g+1
    const bool five = TYPE == T_Q5_K;
    const uint sb = u >> 3, v = u & 7u, g = v >> 1, l0 = (v & 1u) * 16u;
    const uint base = row + sb * (five ? 176u : 144u);
    const uint a = 256u * sb + 64u * g + l0;
    xo[0] = a;
    xo[1] = a + 8u;
    xo[2] = a + 32u;
    xo[3] = a + 40u;
    const uvec4 hdr = ld128(base);
    const uvec4 qs = ld128(base + (five ? 48u : 16u) + 32u * g + l0);
    const uvec4 qh = five ? ld128(base + 16u + l0) : uvec4(0u);
    float sc0, mn0, sc1, mn1;
    scale_min(hdr, 2u * g, sc0, mn0);
    scale_min(hdr, 2u * g + 1u, sc1, mn1);
    const float d = lo_half(hdr.x), dmin = hi_half(hdr.x);
    const float d0 = d * sc0, m0 = dmin * mn0, d1 = d * sc1, m1 = dmin * mn1;
    [[unroll]] for (uint l = 0; l < 16; ++l) {
      uint q0 = byte4(qs, l) & 0xFu, q1 = byte4(qs, l) >> 4;
      if (five) {
        if (((byte4(qh, l) >> (2u * g)) & 1u) != 0u) q0 += 16u;
        if (((byte4(qh, l) >> (2u * g + 1u)) & 1u) != 0u) q1 += 16u;
      }
      w[l] = d0 * qf(q0, 0.0) - m0;
      w[l + 16] = d1 * qf(q1, 0.0) - m1;
    }
  }
}

// The 8 weights of float unit u (elements 8u .. 8u + 7).
void decode_float8(uint row, uint u, out float w[8]) {
  if (TYPE == T_F32) {
    const uint i = (row >> 2) + 8u * u;
    [[unroll]] for (uint k = 0; k < 8; ++k) w[k] = uintBitsToFloat(b32[i + k]);
  } else {
    const uvec4 v = ld128(row + 16u * u);
    [[unroll]] for (uint k = 0; k < 4; ++k) {
      if (TYPE == T_F16) {
        w[2u * k] = lo_half(v[k]);
        w[2u * k + 1u] = hi_half(v[k]);
      } else {
        w[2u * k] = uintBitsToFloat(v[k] << 16);
        w[2u * k + 1u] = uintBitsToFloat(v[k] & 0xffff0000u);
      }
    }
  }
}

float dot8(float w[32], uint r, uint xi) {
  const vec4 a = xv4(xi), b = xv4(xi + 4u);
  return dot(vec4(w[8u * r], w[8u * r + 1u], w[8u * r + 2u], w[8u * r + 3u]), a) +
         dot(vec4(w[8u * r + 4u], w[8u * r + 5u], w[8u * r + 6u], w[8u * r + 7u]), b);
}

// Per-token partial dot products of this invocation (module scope: arrays sized by a
// specialization constant are not passed to functions).
float acc[NT];

// Adds this invocation's share of row `row` (units lane, lane + stride, ...) to acc[t].
void row_partials(uint row, uint lane, uint stride) {
  const uint w_row = p.w_off + row * p.w_stride;
  const uint x0 = p.x_off + gl_WorkGroupID.z * NT * p.x_stride;  // this workgroup's first token
  if (is_float_type(TYPE)) {
    float w8[8];
    for (uint u = lane; u < p.cols / 8u; u += stride) {
      decode_float8(w_row, u, w8);
      [[unroll]] for (uint t = 0; t < NT; ++t) {
        const uint xi = x0 + t * p.x_stride + 8u * u;
        const vec4 a = xv4(xi), b = xv4(xi + 4u);
        acc[t] += dot(vec4(w8[0], w8[1], w8[2], w8[3]), a) + dot(vec4(w8[4], w8[5], w8[6], w8[7]), b);
      }
    }
    // Rows of float types need not be a multiple of 8 long.
    for (uint i = (p.cols & ~7u) + lane; i < p.cols; i += stride) {
      const float wv = load_float(TYPE, w_row, i);
      [[unroll]] for (uint t = 0; t < NT; ++t) acc[t] += wv * xval(x0 + t * p.x_stride + i);
    }
  } else {
    float w[32];
    uint xo[4];
    for (uint u = lane; u < p.cols / 32u; u += stride) {
      decode_unit(w_row, u, w, xo);
      [[unroll]] for (uint t = 0; t < NT; ++t) {
        const uint xr = x0 + t * p.x_stride;
        acc[t] += (dot8(w, 0u, xr + xo[0]) + dot8(w, 1u, xr + xo[1])) + (dot8(w, 2u, xr + xo[2]) + dot8(w, 3u, xr + xo[3]));
      }
    }
  }
}

#if !USE_SUBGROUP
shared float partial[NT * WG];
#endif

void main() {
  const uint first_row = group_index() * ROWS;
  const uint y0 = p.y_off + gl_WorkGroupID.z * NT * p.y_stride;
#if USE_SUBGROUP
  // One subgroup per row: the row's invocations are exactly one subgroup, so one subgroupAdd
  // finishes it. Control flow stays uniform within each subgroup.
  for (uint r = gl_SubgroupID; r < ROWS; r += gl_NumSubgroups) {
    const uint row = first_row + r;
    if (row >= p.rows) break;
    [[unroll]] for (uint t = 0; t < NT; ++t) acc[t] = 0.0;
    row_partials(row, gl_SubgroupInvocationID, gl_SubgroupSize);
    [[unroll]] for (uint t = 0; t < NT; ++t) {
      const float s = subgroupAdd(acc[t]);
      if (subgroupElect()) y[y0 + t * p.y_stride + row] = s;
    }
  }
#else
  // A slice of S invocations per row, then a shared-memory tree inside each slice. Every
  // invocation reaches every barrier: rows past the end just contribute zeros.
  const uint S = WG / ROWS;
  const uint tid = gl_LocalInvocationID.x, lane = tid % S;
  const uint row = first_row + tid / S;
  [[unroll]] for (uint t = 0; t < NT; ++t) acc[t] = 0.0;
  if (row < p.rows) row_partials(row, lane, S);
  [[unroll]] for (uint t = 0; t < NT; ++t) partial[t * WG + tid] = acc[t];
  barrier();
  for (uint stride = S / 2u; stride > 0u; stride >>= 1) {
    if (lane < stride) {
      [[unroll]] for (uint t = 0; t < NT; ++t) partial[t * WG + tid] += partial[t * WG + tid + stride];
    }
    barrier();
  }
  if (lane == 0u && row < p.rows) {
    [[unroll]] for (uint t = 0; t < NT; ++t) y[y0 + t * p.y_stride + row] = partial[t * WG + tid];
  }
#endif
}
