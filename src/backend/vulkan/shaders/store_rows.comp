#version 450
// cache row rows[t] = src row t, converted to the cache type (f16 rounded to nearest even, or
// f32). One invocation per 32-bit word of the cache row (two halves, or one float).
#include "common.glsl"

layout(constant_id = 1) const uint CACHE_F16 = 1;

layout(binding = 0) readonly buffer Src { float src[]; };
layout(binding = 1) readonly buffer Rows { int rows[]; };
layout(binding = 2) buffer Cache { uint cache[]; };

layout(push_constant) uniform Push {
  uint s_off, s_stride;  // floats
  uint rows_off;         // ints
  uint c_off, c_stride;  // 32-bit words
  uint words, n;         // words per row, rows to store
} p;

void main() {
  const uint gid = group_index() * WG + gl_LocalInvocationID.x;
  if (gid >= p.words * p.n) return;
  const uint w = gid % p.words, t = gid / p.words;
  const uint s = p.s_off + t * p.s_stride;
  const uint dst = p.c_off + uint(rows[p.rows_off + t]) * p.c_stride + w;
  if (CACHE_F16 != 0u) {
    cache[dst] = float_to_half(src[s + 2u * w]) | (float_to_half(src[s + 2u * w + 1u]) << 16);
  } else {
    cache[dst] = floatBitsToUint(src[s + w]);
  }
}
