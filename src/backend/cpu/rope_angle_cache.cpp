#include "backend/cpu/rope_angle_cache.h"

#include <algorithm>

#include "backend/cpu/reference_ops.h"

namespace anychip::cpu {

bool RopeAngleCache::same_request(std::span<const int32_t> positions, const backend::RopeParams& p) const {
  // freq_factors is compared by address: the model owns that array for its lifetime.
  return valid_ && p.style == params_.style && p.head_dim == params_.head_dim && p.theta == params_.theta &&
         p.freq_scale == params_.freq_scale && p.freq_factors == params_.freq_factors &&
         std::equal(positions.begin(), positions.end(), positions_.begin(), positions_.end());
}

const float* RopeAngleCache::tables(std::span<const int32_t> positions, const backend::RopeParams& p) {
  if (!same_request(positions, p)) {
    const size_t row = static_cast<size_t>(p.head_dim);
    tables_.resize(row * positions.size());
    for (size_t t = 0; t < positions.size(); ++t) {
      float* cos_out = &tables_[t * row];
      ref::rope_angles(positions[t], p, cos_out, cos_out + p.head_dim / 2);
    }
    positions_.assign(positions.begin(), positions.end());
    params_ = p;
    valid_ = true;
  }
  return tables_.data();
}

}  // namespace anychip::cpu
