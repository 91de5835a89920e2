#version 450
// Causal attention over the paged KV cache, split over keys ("flash decoding"). One workgroup per
// (key chunk, head, query row): query row t of sequence row_seq[t] at position pos[t] attends to
// that sequence's keys 0..pos[t], found through its block table; workgroup s takes keys
// [s * chunk, (s + 1) * chunk). A decode step has few rows, so splitting the keys is what gives
// the GPU enough workgroups. With one chunk per row (p.partial == 0) the result is normalized and
// written to the output; otherwise each workgroup writes (max, sum, unnormalized acc[head_dim])
// and attention_merge.comp combines the chunks.
//
// Keys go in tiles of TILE. Scores: KPARTS invocations per key read interleaved 32-bit words of
// its row (neighbouring invocations read neighbouring words), partial dots summed in shared
// memory. Values: each invocation owns a pair of head dims and a slice of the tile's keys, so a
// row of V is read by consecutive invocations; the slices are summed once at the end (every
// slice is rescaled by the same running max, so their sum is the workgroup's). Only 32-bit loads:
// f16 pairs are unpacked with unpackHalf2x16, so there is no 16-bit-storage variant.
#include "common.glsl"

layout(constant_id = 1) const uint CACHE_F16 = 1;
const uint HEAD_DIM_MAX = 256;
const uint TILE = 32;
const uint KPARTS = WG / TILE;  // invocations per key when scoring

layout(binding = 0) readonly buffer K { uint k32[]; };
layout(binding = 1) readonly buffer V { uint v32[]; };
layout(binding = 2) readonly buffer Q { float q[]; };
layout(binding = 3) writeonly buffer Out { float o[]; };
layout(binding = 4) readonly buffer Ints { int ints[]; };

layout(push_constant) uniform Push {
  uint q_off, q_stride;      // floats
  uint o_off, o_stride;      // floats: the output rows, or the partials (o_stride unused)
  uint k_off, v_off;         // bytes
  uint kv_stride;            // bytes per cache row
  uint pos_off, seq_off, table_off;  // ints
  uint group, head_dim, block_size, max_blocks;
  float scale;
  uint chunk;                // keys per workgroup, a multiple of TILE
  uint partial;              // 1: write partials for attention_merge
} p;

shared float q_sh[HEAD_DIM_MAX];
shared float dot_sh[WG];
shared float weight_sh[TILE];
shared uint row_sh[TILE];
shared vec2 acc_sh[WG];

void main() {
  const uint s = gl_WorkGroupID.x, h = gl_WorkGroupID.y, t = gl_WorkGroupID.z;
  const uint n_head = gl_NumWorkGroups.y, n_split = gl_NumWorkGroups.x;
  const uint tid = gl_LocalInvocationID.x;
  const uint n_keys = uint(ints[p.pos_off + t]) + 1u;
  const uint first = s * p.chunk;
  if (first >= n_keys) return;  // this row has fewer chunks; attention_merge reads only its own
  const uint last = min(first + p.chunk, n_keys);

  const uint elem = CACHE_F16 != 0u ? 2u : 4u;
  const uint head_bytes = (h / p.group) * p.head_dim * elem;
  const uint row_words = p.head_dim * elem / 4u;
  const uint qb = p.q_off + t * p.q_stride + h * p.head_dim;
  // The CPU reference rounds the query to the cache type, as llama.cpp's flash attention does.
  for (uint d = tid; d < p.head_dim; d += WG) q_sh[d] = CACHE_F16 != 0u ? round_to_half(q[qb + d]) : q[qb + d];
  const uint table = p.table_off + uint(ints[p.seq_off + t]) * p.max_blocks;
  barrier();

  const uint pairs = p.head_dim / 2u;
  const uint slices = WG / pairs;  // >= 1 as head_dim <= 2 * WG
  const uint pair = tid % pairs, slice = tid / pairs;
  float running_max = -3.0e38, running_sum = 0.0;
  vec2 acc = vec2(0.0);

  for (uint start = first; start < last; start += TILE) {
    const uint tile = min(TILE, last - start);
    // Scores: invocation tid works on key tid / KPARTS, words tid % KPARTS + i * KPARTS.
    {
      const uint kk = tid / KPARTS, part = tid % KPARTS;
      float dot_qk = 0.0;
      if (kk < tile) {
        const uint key = start + kk;
        const uint row = uint(ints[table + key / p.block_size]) * p.block_size + key % p.block_size;
        if (part == 0u) row_sh[kk] = row;
        const uint kw = (p.k_off + row * p.kv_stride + head_bytes) >> 2;
        for (uint w = part; w < row_words; w += KPARTS) {
          const uint bits = k32[kw + w];
          if (CACHE_F16 != 0u) {
            const vec2 kv = unpackHalf2x16(bits);
            dot_qk += q_sh[2u * w] * kv.x + q_sh[2u * w + 1u] * kv.y;
          } else {
            dot_qk += q_sh[w] * uintBitsToFloat(bits);
          }
        }
      }
      dot_sh[tid] = dot_qk;
    }
    barrier();
    float score = -3.0e38;
    if (tid < tile) {
      float dot_qk = 0.0;
      for (uint i = 0; i < KPARTS; ++i) dot_qk += dot_sh[tid * KPARTS + i];
      score = dot_qk * p.scale;
    }
    const float new_max = max(running_max, workgroup_max(score));
    const float w = tid < tile ? exp(score - new_max) : 0.0;
    if (tid < TILE) weight_sh[tid] = w;
    const float rescale = exp(running_max - new_max);
    running_sum = running_sum * rescale + workgroup_sum(w);
    running_max = new_max;
    barrier();  // weight_sh and row_sh complete

    if (slice < slices) {
      vec2 a = acc * rescale;
      for (uint k = slice; k < tile; k += slices) {
        const uint vb = (p.v_off + row_sh[k] * p.kv_stride + head_bytes) >> 2;
        vec2 v;
        if (CACHE_F16 != 0u) {
          v = unpackHalf2x16(v32[vb + pair]);
        } else {
          v = vec2(uintBitsToFloat(v32[vb + 2u * pair]), uintBitsToFloat(v32[vb + 2u * pair + 1u]));
        }
        a += weight_sh[k] * v;
      }
      acc = a;
    }
    barrier();  // before the next tile overwrites dot_sh, weight_sh and row_sh
  }

  acc_sh[tid] = acc;
  barrier();
  if (slice != 0u) return;
  for (uint i = 1; i < slices; ++i) acc += acc_sh[pair + i * pairs];
  if (p.partial == 0u) {
    const float inv = running_sum > 0.0 ? 1.0 / running_sum : 0.0;
    const uint ob = p.o_off + t * p.o_stride + h * p.head_dim + 2u * pair;
    o[ob] = acc.x * inv;
    o[ob + 1u] = acc.y * inv;
  } else {
    // Partial (t, h, s) at ((t * n_head + h) * n_split + s) * (head_dim + 2): max, sum, acc.
    const uint pb = p.o_off + ((t * n_head + h) * n_split + s) * (p.head_dim + 2u);
    if (pair == 0u) {
      o[pb] = running_max;
      o[pb + 1u] = running_sum;
    }
    o[pb + 2u + 2u * pair] = acc.x;
    o[pb + 3u + 2u * pair] = acc.y;
  }
}
