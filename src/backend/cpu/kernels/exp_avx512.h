#pragma once
// exp over 16 floats with the shared polynomial of exp_poly.h; for the AVX-512 kernels' .cpp
// files only (each is compiled for AVX-512). scalef applies 2^n with the exponent range handled
// (overflow to inf, underflow to 0). Inputs must not be -inf or NaN: clamp first where they can be.
#include <immintrin.h>

#include "backend/cpu/kernels/exp_poly.h"

namespace anychip::cpu {

inline __m512 exp16(__m512 x) {
  using namespace exp_poly;
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Hi), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Lo), r);
  __m512 p = _mm512_set1_ps(kC[5]);
  for (int i = 4; i >= 0; --i) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kC[i]));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);
}

}  // namespace anychip::cpu
