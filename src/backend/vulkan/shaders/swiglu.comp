#version 450
// out = silu(gate) * up, element-wise; out may be gate itself.
#include "common.glsl"

layout(binding = 0) readonly buffer G { float g[]; };
layout(binding = 1) readonly buffer U { float u[]; };
layout(binding = 2) writeonly buffer O { float o[]; };

layout(push_constant) uniform Push {
  uint g_off, g_stride, u_off, u_stride, o_off, o_stride;  // floats
  uint cols, rows;
} p;

void main() {
  const uint gid = group_index() * WG + gl_LocalInvocationID.x;
  if (gid >= p.cols * p.rows) return;
  const uint i = gid % p.cols, t = gid / p.cols;
  const float gv = g[p.g_off + t * p.g_stride + i];
  o[p.o_off + t * p.o_stride + i] = gv / (1.0 + exp(-gv)) * u[p.u_off + t * p.u_stride + i];
}
