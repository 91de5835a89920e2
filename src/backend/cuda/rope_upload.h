#pragma once
// What the two rope ops (rope, rope_and_store) compute on the host for their kernels.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "backend/device.h"

namespace anychip::cuda {

// A rope op's upload: the positions, then the frequency factors (head_dim / 2 floats) if any.
inline std::vector<int32_t> rope_words(std::span<const int32_t> positions, const backend::RopeParams& p) {
  std::vector<int32_t> words(positions.begin(), positions.end());
  if (p.freq_factors) {
    const size_t half = static_cast<size_t>(p.head_dim / 2);
    words.resize(positions.size() + half);
    std::memcpy(words.data() + positions.size(), p.freq_factors, half * sizeof(float));
  }
  return words;
}

// theta^(-2/head_dim) by exactly the CPU reference's expression, so the angles round identically.
inline float rope_theta_scale(const backend::RopeParams& p) {
  return std::pow(p.theta, -2.0f / static_cast<float>(p.head_dim));
}

}  // namespace anychip::cuda
