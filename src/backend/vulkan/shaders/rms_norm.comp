#version 450
// y = x / rms(x) * weight over each group of `n` elements (a row, or one head of a row for the
// per-head norms of Qwen3). One workgroup per group. In place (y = x) is allowed: every
// invocation rewrites only the elements it read. Decoding normalizes a single wide row, so the
// whole op is one workgroup's latency: the host gives wide rows a big workgroup, and the sum of
// squares takes four independent loads per step rather than one dependent chain.
#include "common.glsl"
#include "bytes.glsl"
#include "dequant.glsl"

layout(constant_id = 1) const uint WTYPE = 0;  // F32, F16 or BF16 norm weights (binding 0)

layout(binding = 1) readonly buffer X { float x[]; };
layout(binding = 2) buffer Y { float y[]; };

layout(push_constant) uniform Push {
  uint w_off;              // bytes
  uint x_off, x_stride;    // floats
  uint y_off, y_stride;    // floats
  uint n, groups, rows;    // group length, groups per row, rows
  float eps;
} p;

void main() {
  const uint gi = group_index();
  if (gi >= p.groups * p.rows) return;
  const uint t = gi / p.groups, g = gi % p.groups;
  const uint xb = p.x_off + t * p.x_stride + g * p.n;
  const uint yb = p.y_off + t * p.y_stride + g * p.n;
  const uint tid = gl_LocalInvocationID.x;
  vec4 sums = vec4(0.0);
  uint i = tid;
  for (; i + 3u * WG < p.n; i += 4u * WG) {
    const vec4 v = vec4(x[xb + i], x[xb + i + WG], x[xb + i + 2u * WG], x[xb + i + 3u * WG]);
    sums += v * v;
  }
  for (; i < p.n; i += WG) sums.x += x[xb + i] * x[xb + i];
  const float sum = workgroup_sum((sums.x + sums.y) + (sums.z + sums.w));
  const float scale = 1.0 / sqrt(sum / float(p.n) + p.eps);
  for (uint i = tid; i < p.n; i += WG) {
    y[yb + i] = x[xb + i] * scale * load_float(WTYPE, p.w_off, i);
  }
}
