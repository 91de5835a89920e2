#version 450
// y[t] += bias for every row t; the bias row is f32, f16 or bf16 (binding 0, bytes).
#include "common.glsl"
#include "bytes.glsl"
#include "dequant.glsl"

layout(constant_id = 1) const uint BTYPE = 0;

layout(binding = 1) buffer Y { float y[]; };

layout(push_constant) uniform Push {
  uint b_off;              // bytes
  uint y_off, y_stride;    // floats
  uint cols, rows;
} p;

void main() {
  const uint gid = group_index() * WG + gl_LocalInvocationID.x;
  if (gid >= p.cols * p.rows) return;
  const uint i = gid % p.cols, t = gid / p.cols;
  y[p.y_off + t * p.y_stride + i] += load_float(BTYPE, p.b_off, i);
}
