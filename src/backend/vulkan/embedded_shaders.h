#pragma once
// SPIR-V compiled from shaders/*.comp at build time (vulkan.cmake), one entry per feature
// variant. The table is generated; see embed_spirv.cmake.
#include <cstddef>
#include <cstdint>
#include <span>

namespace anychip::vulkan {

// Feature bits a shader variant was compiled for (must match vulkan.cmake).
enum FeatureBits : uint32_t {
  kFeatureSubgroup = 1,   // subgroup arithmetic for reductions
  kFeatureStorage16 = 2,  // 16-bit storage buffer access
  kFeatureStorage8 = 4,   // 8-bit storage buffer access
};

struct EmbeddedShader {
  const char* name;
  uint32_t features;  // the FeatureBits this variant uses
  const uint32_t* code;
  size_t words;
};

std::span<const EmbeddedShader> embedded_shaders();

}  // namespace anychip::vulkan
