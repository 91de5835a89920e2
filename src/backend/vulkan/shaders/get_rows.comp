#version 450
// out[i] = table row ids[i] as f32, for every weight type (embedding lookup) and f32 tables
// (picking the rows whose logits are wanted). One workgroup per id.
#include "common.glsl"
#include "bytes.glsl"
#include "dequant.glsl"

layout(constant_id = 1) const uint TYPE = 0;

layout(binding = 1) readonly buffer Ids { int ids[]; };
layout(binding = 2) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Push {
  uint t_off, t_stride;    // bytes
  uint o_off, o_stride;    // floats
  uint ids_off;            // ints
  uint cols, n;
} p;

void main() {
  const uint i = group_index();
  if (i >= p.n) return;
  const uint row = p.t_off + uint(ids[p.ids_off + i]) * p.t_stride;
  const uint out_row = p.o_off + i * p.o_stride;
  if (is_float_type(TYPE)) {
    for (uint c = gl_LocalInvocationID.x; c < p.cols; c += WG) o[out_row + c] = load_float(TYPE, row, c);
  } else {
    float v[16];
    for (uint c = gl_LocalInvocationID.x; c < p.cols / 16u; c += WG) {
      dequant16(TYPE, row, c, v);
      [[unroll]] for (uint j = 0; j < 16; ++j) o[out_row + c * 16u + j] = v[j];
    }
  }
}
