#version 450
// y[t][row] = dot(weight row, x[t]) for every weight type. One workgroup owns one weight row and
// NT tokens: each invocation decodes its share of the row once and applies it to all NT token
// rows (NT = 1 for decode, more for prefill so a decoded weight is reused), then the partial
// dots are summed across the workgroup.
#include "common.glsl"
#include "bytes.glsl"
#include "dequant.glsl"

layout(constant_id = 1) const uint TYPE = 0;
layout(constant_id = 2) const uint NT = 1;
// Activation rounding that matches the CPU backend for half-precision weights: 0 none, 1 f16,
// 2 bf16 (llama.cpp converts activations to the weight's half type before the dot product).
layout(constant_id = 3) const uint ROUND_X = 0;

layout(binding = 1) readonly buffer X { float x[]; };
layout(binding = 2) writeonly buffer Y { float y[]; };

layout(push_constant) uniform Push {
  uint w_off, w_stride;  // bytes
  uint x_off, x_stride;  // floats
  uint y_off, y_stride;  // floats
  uint cols, rows, n_tokens;
} p;

float xval(uint i) {
  const float v = x[i];
  return ROUND_X == 1u ? round_to_half(v) : ROUND_X == 2u ? round_to_bf16(v) : v;
}

void main() {
  const uint row = group_index();
  if (row >= p.rows) return;  // whole workgroups leave together, so later barriers are safe
  const uint tid = gl_LocalInvocationID.x;
  const uint t0 = gl_WorkGroupID.z * NT;
  const uint nt = min(NT, p.n_tokens - t0);
  const uint w_row = p.w_off + row * p.w_stride;

  float acc[NT];
  [[unroll]] for (uint t = 0; t < NT; ++t) acc[t] = 0.0;

  if (is_float_type(TYPE)) {
    for (uint i = tid; i < p.cols; i += WG) {
      const float wv = load_float(TYPE, w_row, i);
      for (uint t = 0; t < nt; ++t) acc[t] += wv * xval(p.x_off + (t0 + t) * p.x_stride + i);
    }
  } else {
    float wv[16];
    for (uint c = tid; c < p.cols / 16u; c += WG) {
      dequant16(TYPE, w_row, c, wv);
      for (uint t = 0; t < nt; ++t) {
        const uint xb = p.x_off + (t0 + t) * p.x_stride + c * 16u;
        float s = 0.0;
        [[unroll]] for (uint j = 0; j < 16; ++j) s += wv[j] * x[xb + j];
        acc[t] += s;
      }
    }
  }
  for (uint t = 0; t < nt; ++t) {
    const float s = workgroup_sum(acc[t]);
    if (tid == 0) y[p.y_off + (t0 + t) * p.y_stride + row] = s;
  }
}
