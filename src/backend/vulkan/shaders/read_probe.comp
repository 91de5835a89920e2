#version 450
// The memory read-bandwidth probe (bandwidth.cpp): grid-stride 16-byte loads over the whole
// buffer, four independent ones in flight per invocation, folded into an xor that is written
// only when it equals an unlikely value. That keeps the loads from being optimized away
// without adding write traffic.
#include "common.glsl"

layout(binding = 0) readonly buffer Data { uvec4 data[]; };
layout(binding = 1) writeonly buffer Sink { uint sink[]; };

layout(push_constant) uniform Push {
  uint n;  // uvec4s in data
} p;

void main() {
  const uint total = gl_NumWorkGroups.x * WG;
  uint i = gl_WorkGroupID.x * WG + gl_LocalInvocationID.x;
  uvec4 a = uvec4(0u), b = uvec4(0u), c = uvec4(0u), d = uvec4(0u);
  // i + 3 * total < n without overflowing: n is below 2^28 (4 GiB of uvec4s).
  for (; i + 3u * total < p.n; i += 4u * total) {
    a ^= data[i];
    b ^= data[i + total];
    c ^= data[i + 2u * total];
    d ^= data[i + 3u * total];
  }
  for (; i < p.n; i += total) a ^= data[i];
  const uvec4 v = a ^ b ^ c ^ d;
  const uint x = v.x ^ v.y ^ v.z ^ v.w;
  if (x == 0x9e3779b9u) sink[0] = x;
}
