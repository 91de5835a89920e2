#pragma once
// The cos/sin tables rope needs per row. Every layer of one forward pass rotates q and k at the
// same positions with the same parameters, so the tables are computed on the first call (each
// costs head_dim/2 cos and sin) and reused while positions and parameters repeat.
#include <cstdint>
#include <span>
#include <vector>

#include "backend/device.h"

namespace anychip::cpu {

class RopeAngleCache {
 public:
  // Row t's table: head_dim / 2 cosines, then as many sines, as ref::rope_angles computes them.
  // Valid until the next call.
  const float* tables(std::span<const int32_t> positions, const backend::RopeParams& p);

 private:
  bool same_request(std::span<const int32_t> positions, const backend::RopeParams& p) const;

  std::vector<int32_t> positions_;
  backend::RopeParams params_;
  bool valid_ = false;
  std::vector<float> tables_;
};

}  // namespace anychip::cpu
