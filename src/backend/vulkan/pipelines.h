#pragma once
// Compute pipelines built from the embedded SPIR-V on first use and kept for the device's life.
// Every shader shares one layout: kBindings storage buffers and up to kPushBytes of push
// constants, so one descriptor-set layout serves all dispatches. A pipeline is keyed by shader
// name and specialization constants (workgroup size, weight type, tokens per workgroup: the
// "shape class"); the shader variant is picked by the device's features.
#include <vulkan/vulkan.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "backend/vulkan/context.h"

namespace anychip::vulkan {

inline constexpr uint32_t kBindings = 5;
inline constexpr uint32_t kPushBytes = 128;

class Pipelines {
 public:
  explicit Pipelines(const Context& ctx);
  ~Pipelines();
  Pipelines(const Pipelines&) = delete;
  Pipelines& operator=(const Pipelines&) = delete;

  // spec[i] is specialization constant i (constant 0 is the workgroup size in every shader).
  VkPipeline get(const std::string& shader, const std::vector<uint32_t>& spec);
  VkPipelineLayout layout() const { return layout_; }
  VkDescriptorSetLayout set_layout() const { return set_layout_; }

 private:
  VkShaderModule module_for(const std::string& shader);

  const Context& ctx_;
  VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
  VkPipelineLayout layout_ = VK_NULL_HANDLE;
  std::map<std::string, VkShaderModule> modules_;
  std::map<std::pair<std::string, std::vector<uint32_t>>, VkPipeline> pipelines_;
};

}  // namespace anychip::vulkan
