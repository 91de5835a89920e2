#pragma once
// Scalar helpers that compile both as CUDA device code and as plain C++: the per-type block
// math built on them is unit-tested on the host (tests/cuda_block_math_test.cpp), which is how
// the kernels' bit manipulation is verified on machines without a GPU. Nothing here may depend
// on the CUDA headers when compiled by a host compiler.
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define ANYCHIP_HD __host__ __device__ __forceinline__
#else
#define ANYCHIP_HD inline
#endif

namespace anychip::cuda::hd {

ANYCHIP_HD uint32_t float_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
#endif
}

ANYCHIP_HD float bits_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
#endif
}

// Exact: every half is a float. NaNs keep their payload and come out quiet, as quant::fp16_to_fp32.
ANYCHIP_HD float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    const float mag = static_cast<float>(mant) * 5.9604644775390625e-8f;  // mant * 2^-24, exact
    return bits_float(sign | float_bits(mag));
  }
  if (exp == 31) return bits_float(sign | 0x7f800000u | (mant << 13) | (mant != 0 ? 0x00400000u : 0u));
  return bits_float(sign | ((exp + 112u) << 23) | (mant << 13));
}

// Round to nearest even; every NaN becomes the quiet NaN 0x7e00 with its sign. Bit-identical to
// quant::fp32_to_fp16 (CUDA's __float2half_rn differs on NaN), which the KV cache tests pin.
ANYCHIP_HD uint16_t float_to_half(float f) {
  const uint32_t bits = float_bits(f);
  const auto sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t abs = bits & 0x7fffffffu;
  if (abs > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);
  const uint32_t exp = abs >> 23;
  const uint32_t mant = abs & 0x7fffffu;
  if (exp >= 113) {
    uint32_t h = ((exp - 112u) << 10) | (mant >> 13);
    const uint32_t rest = mant & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  if (exp < 102) return sign;
  const uint32_t full = mant | 0x800000u;
  const uint32_t shift = 126u - exp;
  uint32_t h = full >> shift;
  const uint32_t rest = full & ((1u << shift) - 1u);
  const uint32_t half_unit = 1u << (shift - 1u);
  if (rest > half_unit || (rest == half_unit && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
}

ANYCHIP_HD float bf16_to_float(uint16_t h) { return bits_float(static_cast<uint32_t>(h) << 16); }

// Round to nearest even, NaN kept quiet: as quant::fp32_to_bf16.
ANYCHIP_HD uint16_t float_to_bf16(float f) {
  const uint32_t bits = float_bits(f);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);
  const uint32_t lsb = (bits >> 16) & 1u;
  return static_cast<uint16_t>((bits + 0x7fffu + lsb) >> 16);
}

// x rounded to f16 and back (what the CPU backend does to activations before an f16 dot product).
ANYCHIP_HD float round_to_half(float x) { return half_to_float(float_to_half(x)); }
ANYCHIP_HD float round_to_bf16(float x) { return bf16_to_float(float_to_bf16(x)); }

// Round half to even, as std::nearbyint in the default rounding mode.
ANYCHIP_HD float round_even(float x) {
#if defined(__CUDA_ARCH__)
  return rintf(x);
#else
  return std::nearbyint(x);
#endif
}

// Sum of the four signed-byte products plus c.
ANYCHIP_HD int dp4a(int a, int b, int c) {
#if defined(__CUDA_ARCH__)
  return __dp4a(a, b, c);
#else
  for (int i = 0; i < 4; ++i) {
    c += static_cast<int>(static_cast<int8_t>(static_cast<uint32_t>(a) >> (8 * i))) *
         static_cast<int>(static_cast<int8_t>(static_cast<uint32_t>(b) >> (8 * i)));
  }
  return c;
#endif
}

// GGUF blocks are 2-byte aligned at best (every block size is even, tensors start 32-aligned),
// so wider fields are read as 16-bit halves.
// On the GPU through the read-only data cache: kernels never write what they read this way
// (weights, and caches written by earlier kernels).
ANYCHIP_HD uint16_t load_u16(const uint8_t* p) {
#if defined(__CUDA_ARCH__)
  return __ldg(reinterpret_cast<const unsigned short*>(p));
#else
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
#endif
}

ANYCHIP_HD uint32_t load_u32(const uint8_t* p) {
  return static_cast<uint32_t>(load_u16(p)) | (static_cast<uint32_t>(load_u16(p + 2)) << 16);
}

}  // namespace anychip::cuda::hd
