#version 450
// y += x, element-wise over rows.
#include "common.glsl"

layout(binding = 0) readonly buffer X { float x[]; };
layout(binding = 1) buffer Y { float y[]; };

layout(push_constant) uniform Push {
  uint x_off, x_stride, y_off, y_stride;  // floats
  uint cols, rows;
} p;

void main() {
  const uint gid = group_index() * WG + gl_LocalInvocationID.x;
  if (gid >= p.cols * p.rows) return;
  const uint i = gid % p.cols, t = gid / p.cols;
  y[p.y_off + t * p.y_stride + i] += x[p.x_off + t * p.x_stride + i];
}
