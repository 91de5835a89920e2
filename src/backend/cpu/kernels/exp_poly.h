#pragma once
// exp(x) for the vector kernels: x = n ln2 + r with |r| <= ln2 / 2 (ln2 split in two parts so
// n ln2 is exact), exp(r) by a degree-7 polynomial (Cephes' expf coefficients, within 1 ulp on
// that range), then scaled by 2^n. Shared by every ISA's version so they round alike.
namespace anychip::cpu::exp_poly {

constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f;
constexpr float kLn2Lo = -2.12194440e-4f;
// exp(r) = 1 + r + r^2 (c0 + c1 r + ... + c5 r^5)
constexpr float kC[6] = {5.0000001201e-1f, 1.6666665459e-1f, 4.1665795894e-2f,
                         8.3334519073e-3f, 1.3981999507e-3f, 1.9875691500e-4f};

}  // namespace anychip::cpu::exp_poly
