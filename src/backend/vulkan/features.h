#pragma once
// Optional device features the shaders have variants for, and the ANYCHIP_VULKAN_DISABLE switch
// that turns them off so the fallback shaders can be tested on hardware that has the features.
#include <cstdint>
#include <string>

namespace anychip::vulkan {

struct Features {
  bool subgroup = false;   // subgroup arithmetic in compute shaders (reductions)
  bool storage16 = false;  // 16-bit loads from storage buffers (f16 / packed weights)
  bool storage8 = false;   // 8-bit loads from storage buffers (quantized bytes)

  uint32_t mask() const;        // FeatureBits of embedded_shaders.h
  std::string describe() const; // e.g. "subgroup fp16 int8storage" or "none"
};

// Parses a comma-separated list: "subgroup", "fp16" (alias "16bit", "int16storage"), "int8storage"
// (alias "8bit", "int8"), or "all". Unknown words throw anychip::Error naming them.
Features parse_disabled(const std::string& list);
// parse_disabled(getenv("ANYCHIP_VULKAN_DISABLE")), or nothing disabled when unset.
Features disabled_from_env();

}  // namespace anychip::vulkan
