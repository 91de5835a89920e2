#version 450
// Second pass of attention_split.comp: combines a (head, query row)'s per-chunk partials
// (max m_s, sum l_s, unnormalized acc_s) into out = sum_s acc_s e^(m_s - M) / sum_s l_s e^(m_s - M),
// M the largest m_s. One workgroup per (head, row); the chunk count is tiny, so every invocation
// recomputes M and the total itself rather than reducing.
#include "common.glsl"

layout(binding = 0) readonly buffer Partials { float part[]; };
layout(binding = 1) writeonly buffer Out { float o[]; };
layout(binding = 2) readonly buffer Ints { int ints[]; };

layout(push_constant) uniform Push {
  uint part_off;          // floats
  uint o_off, o_stride;   // floats
  uint pos_off;           // ints
  uint head_dim, chunk, n_split;
} p;

void main() {
  const uint h = gl_WorkGroupID.x, t = gl_WorkGroupID.y, n_head = gl_NumWorkGroups.x;
  const uint n_keys = uint(ints[p.pos_off + t]) + 1u;
  const uint n = (n_keys + p.chunk - 1u) / p.chunk;  // chunks this row used
  const uint stride = p.head_dim + 2u;
  const uint base = p.part_off + (t * n_head + h) * p.n_split * stride;
  float m = -3.0e38;
  for (uint s = 0; s < n; ++s) m = max(m, part[base + s * stride]);
  float total = 0.0;
  for (uint s = 0; s < n; ++s) total += part[base + s * stride + 1u] * exp(part[base + s * stride] - m);
  const float inv = total > 0.0 ? 1.0 / total : 0.0;
  const uint ob = p.o_off + t * p.o_stride + h * p.head_dim;
  for (uint d = gl_LocalInvocationID.x; d < p.head_dim; d += WG) {
    float a = 0.0;
    for (uint s = 0; s < n; ++s) a += part[base + s * stride + 2u + d] * exp(part[base + s * stride] - m);
    o[ob + d] = a * inv;
  }
}
