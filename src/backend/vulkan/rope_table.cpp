#include "backend/vulkan/rope_table.h"

#include <cmath>

namespace anychip::vulkan {

std::vector<float> rope_table(std::span<const int32_t> positions, const backend::RopeParams& p) {
  const int half = p.head_dim / 2;
  const float theta_scale = std::pow(p.theta, -2.0f / static_cast<float>(p.head_dim));
  std::vector<float> table(positions.size() * static_cast<size_t>(half) * 2);
  float* out = table.data();
  for (int32_t position : positions) {
    float theta = static_cast<float>(position);
    for (int i = 0; i < half; ++i, theta *= theta_scale) {
      const float factor = p.freq_factors ? p.freq_factors[i] : 1.0f;
      const float angle = p.freq_scale * theta / factor;
      *out++ = std::cos(angle);
      *out++ = std::sin(angle);
    }
  }
  return table;
}

}  // namespace anychip::vulkan
