#version 450
// Rotates every head of every row in place by angles the host computed (cos, sin per row and
// pair; see rope_table.cpp for why the host). Normal style rotates pairs (2i, 2i+1), NEOX style
// (i, i + head_dim/2). One invocation per pair.
#include "common.glsl"

layout(binding = 0) buffer X { float x[]; };
layout(binding = 1) readonly buffer Table { float tab[]; };

layout(push_constant) uniform Push {
  uint x_off, x_stride;  // floats
  uint tab_off;          // floats: (cos, sin) for row t, pair i at tab_off + 2 * (t * n_pairs + i)
  uint rows, heads, n_pairs, head_dim, neox;
} p;

void main() {
  const uint gid = group_index() * WG + gl_LocalInvocationID.x;
  if (gid >= p.rows * p.heads * p.n_pairs) return;
  const uint i = gid % p.n_pairs;
  const uint h = (gid / p.n_pairs) % p.heads;
  const uint t = gid / (p.n_pairs * p.heads);
  const uint base = p.x_off + t * p.x_stride + h * p.head_dim;
  const uint a = base + (p.neox != 0u ? i : 2u * i);
  const uint b = base + (p.neox != 0u ? i + p.n_pairs : 2u * i + 1u);
  const uint ti = p.tab_off + 2u * (t * p.n_pairs + i);
  const float c = tab[ti], s = tab[ti + 1u];
  const float x0 = x[a], x1 = x[b];
  // precise: no fused multiply-add, so the rounding is the CPU reference's.
  precise float r0 = x0 * c - x1 * s;
  precise float r1 = x0 * s + x1 * c;
  x[a] = r0;
  x[b] = r1;
}
