#version 450
// Causal attention over the paged KV cache. One workgroup per (query row, head): query row t of
// sequence row_seq[t] at position pos[t] attends to that sequence's keys 0..pos[t], found through
// its block table. Keys go in tiles of WG: each invocation scores one key, the workgroup takes
// the tile's max and sum (online softmax: earlier partial sums are rescaled when the max grows),
// then each invocation accumulates the weighted values for its own head dimensions.
#include "common.glsl"

layout(constant_id = 1) const uint CACHE_F16 = 1;
const uint HEAD_DIM_MAX = 256;
const uint DIMS_PER_INVOCATION = (HEAD_DIM_MAX + WG - 1) / WG;

layout(binding = 0) readonly buffer K32 { uint k32[]; };
layout(binding = 1) readonly buffer V32 { uint v32[]; };
#if USE_16BIT
layout(binding = 0) readonly buffer K16 { uint16_t k16[]; };
layout(binding = 1) readonly buffer V16 { uint16_t v16[]; };
#endif
layout(binding = 2) readonly buffer Q { float q[]; };
layout(binding = 3) writeonly buffer Out { float o[]; };
layout(binding = 4) readonly buffer Ints { int ints[]; };

layout(push_constant) uniform Push {
  uint q_off, q_stride;      // floats
  uint o_off, o_stride;      // floats
  uint k_off, v_off;         // bytes
  uint kv_stride;            // bytes per cache row
  uint pos_off, seq_off, table_off;  // ints
  uint group, head_dim, block_size, max_blocks;
  float scale;
} p;

float cache_k(uint byte_offset) {
  if (CACHE_F16 == 0u) return uintBitsToFloat(k32[byte_offset >> 2]);
#if USE_16BIT
  return half_to_float(uint(k16[byte_offset >> 1]));
#else
  return half_to_float((k32[byte_offset >> 2] >> ((byte_offset & 2u) * 8u)) & 0xffffu);
#endif
}

float cache_v(uint byte_offset) {
  if (CACHE_F16 == 0u) return uintBitsToFloat(v32[byte_offset >> 2]);
#if USE_16BIT
  return half_to_float(uint(v16[byte_offset >> 1]));
#else
  return half_to_float((v32[byte_offset >> 2] >> ((byte_offset & 2u) * 8u)) & 0xffffu);
#endif
}

shared float q_sh[HEAD_DIM_MAX];
shared float weight_sh[WG];
shared uint row_sh[WG];

void main() {
  const uint h = gl_WorkGroupID.x, t = gl_WorkGroupID.y;
  const uint tid = gl_LocalInvocationID.x;
  const uint elem = CACHE_F16 != 0u ? 2u : 4u;
  const uint head_bytes = (h / p.group) * p.head_dim * elem;
  const uint qb = p.q_off + t * p.q_stride + h * p.head_dim;
  // The CPU reference rounds the query to the cache type, as llama.cpp's flash attention does.
  for (uint d = tid; d < p.head_dim; d += WG) q_sh[d] = CACHE_F16 != 0u ? round_to_half(q[qb + d]) : q[qb + d];
  barrier();

  const uint n_keys = uint(ints[p.pos_off + t]) + 1u;
  const uint table = p.table_off + uint(ints[p.seq_off + t]) * p.max_blocks;
  float running_max = -3.0e38, running_sum = 0.0;
  float acc[DIMS_PER_INVOCATION];
  [[unroll]] for (uint j = 0; j < DIMS_PER_INVOCATION; ++j) acc[j] = 0.0;

  for (uint start = 0; start < n_keys; start += WG) {
    const uint key = start + tid;
    float score = -3.0e38;
    if (key < n_keys) {
      const uint row = uint(ints[table + key / p.block_size]) * p.block_size + key % p.block_size;
      row_sh[tid] = row;
      const uint kb = p.k_off + row * p.kv_stride + head_bytes;
      float dot_qk = 0.0;
      for (uint d = 0; d < p.head_dim; ++d) dot_qk += q_sh[d] * cache_k(kb + d * elem);
      score = dot_qk * p.scale;
    }
    const float new_max = max(running_max, workgroup_max(score));
    const float w = key < n_keys ? exp(score - new_max) : 0.0;
    weight_sh[tid] = w;
    const float rescale = exp(running_max - new_max);
    running_sum = running_sum * rescale + workgroup_sum(w);
    running_max = new_max;
    barrier();  // weight_sh and row_sh complete

    const uint tile = min(WG, n_keys - start);
    [[unroll]] for (uint j = 0; j < DIMS_PER_INVOCATION; ++j) {
      const uint d = tid + j * WG;
      if (d < p.head_dim) {
        float a = acc[j] * rescale;
        for (uint k = 0; k < tile; ++k) a += weight_sh[k] * cache_v(p.v_off + row_sh[k] * p.kv_stride + head_bytes + d * elem);
        acc[j] = a;
      }
    }
    barrier();  // before the next tile overwrites weight_sh and row_sh
  }
  const float inv = running_sum > 0.0 ? 1.0 / running_sum : 0.0;
  const uint ob = p.o_off + t * p.o_stride + h * p.head_dim;
  [[unroll]] for (uint j = 0; j < DIMS_PER_INVOCATION; ++j) {
    const uint d = tid + j * WG;
    if (d < p.head_dim) o[ob + d] = acc[j] * inv;
  }
}
