// Shared by every shader: feature switches, workgroup-wide reductions and number conversions.
// Compiled once per feature variant with USE_SUBGROUP / USE_16BIT / USE_8BIT set to 0 or 1
// (see vulkan.cmake); shaders that do not care about a feature see it as 0.
#ifndef USE_SUBGROUP
#define USE_SUBGROUP 0
#endif
#ifndef USE_16BIT
#define USE_16BIT 0
#endif
#ifndef USE_8BIT
#define USE_8BIT 0
#endif

#extension GL_EXT_control_flow_attributes : enable
#if USE_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#if USE_16BIT
#extension GL_EXT_shader_16bit_storage : require
#endif
#if USE_8BIT
#extension GL_EXT_shader_8bit_storage : require
#endif

// Specialization constant 0 of every shader is its workgroup size (a power of two).
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;

// IEEE binary16 bits -> float. Exact: every half is a float.
float half_to_float(uint h) { return unpackHalf2x16(h).x; }

// float -> binary16 bits, round to nearest even, as the CPU backend's fp32_to_fp16 (GLSL leaves
// packHalf2x16's rounding to the implementation, so it is spelled out here).
uint float_to_half(float f) {
  const uint x = floatBitsToUint(f);
  const uint sign = (x >> 16) & 0x8000u;
  const uint ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) return sign | (ax > 0x7f800000u ? 0x7e00u : 0x7c00u);  // NaN, inf
  if (ax >= 0x477ff000u) return sign | 0x7c00u;                                  // rounds to inf
  if (ax < 0x38800000u) {  // half subnormal: scale by 2^24 (exact) and round to an integer
    return sign | uint(roundEven(uintBitsToFloat(ax) * 16777216.0));
  }
  uint m = ax - 0x38000000u;  // rebias the exponent from 127 to 15
  m += 0xfffu + ((m >> 13) & 1u);
  return sign | (m >> 13);
}

float round_to_half(float f) { return half_to_float(float_to_half(f)); }

float bf16_to_float(uint h) { return uintBitsToFloat(h << 16); }

// Round to nearest even bf16 and back, NaN kept quiet, as the CPU backend's fp32_to_bf16.
float round_to_bf16(float f) {
  uint x = floatBitsToUint(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return uintBitsToFloat((x | 0x00400000u) & 0xffff0000u);
  x += 0x7fffu + ((x >> 16) & 1u);
  return uintBitsToFloat(x & 0xffff0000u);
}

// Workgroup-wide sum, returned to every invocation. Subgroup adds then one value per subgroup
// through shared memory; without subgroups, a shared-memory tree.
shared float reduce_scratch[WG];

float workgroup_sum(float v) {
#if USE_SUBGROUP
  v = subgroupAdd(v);
  if (gl_NumSubgroups == 1) return v;
  if (subgroupElect()) reduce_scratch[gl_SubgroupID] = v;
  barrier();
  float s = 0.0;
  for (uint i = 0; i < gl_NumSubgroups; ++i) s += reduce_scratch[i];
  barrier();
  return s;
#else
  const uint tid = gl_LocalInvocationID.x;
  reduce_scratch[tid] = v;
  barrier();
  for (uint stride = WG / 2; stride > 0; stride >>= 1) {
    if (tid < stride) reduce_scratch[tid] += reduce_scratch[tid + stride];
    barrier();
  }
  const float s = reduce_scratch[0];
  barrier();
  return s;
#endif
}

float workgroup_max(float v) {
#if USE_SUBGROUP
  v = subgroupMax(v);
  if (gl_NumSubgroups == 1) return v;
  if (subgroupElect()) reduce_scratch[gl_SubgroupID] = v;
  barrier();
  float s = reduce_scratch[0];
  for (uint i = 1; i < gl_NumSubgroups; ++i) s = max(s, reduce_scratch[i]);
  barrier();
  return s;
#else
  const uint tid = gl_LocalInvocationID.x;
  reduce_scratch[tid] = v;
  barrier();
  for (uint stride = WG / 2; stride > 0; stride >>= 1) {
    if (tid < stride) reduce_scratch[tid] = max(reduce_scratch[tid], reduce_scratch[tid + stride]);
    barrier();
  }
  const float s = reduce_scratch[0];
  barrier();
  return s;
#endif
}

// Flattened 2-D workgroup grids: the host splits counts above the 65535-per-dimension minimum
// limit into x and y.
uint group_index() { return gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x; }
