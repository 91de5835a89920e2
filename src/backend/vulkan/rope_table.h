#pragma once
// The RoPE angles' cosines and sines, computed on the host. GLSL's cos/sin are only required to
// be accurate to about 2^-11, which would cost the f32 models their 1e-3 conformance margin; the
// host computes them exactly as the CPU reference does (angle stepped by repeated float
// multiplication, as llama.cpp), for the batch's positions only.
#include <cstdint>
#include <span>
#include <vector>

#include "backend/device.h"

namespace anychip::vulkan {

// (cos, sin) for row t and pair i at 2 * (t * head_dim/2 + i).
std::vector<float> rope_table(std::span<const int32_t> positions, const backend::RopeParams& p);

}  // namespace anychip::vulkan
