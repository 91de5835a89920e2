#include "backend/vulkan/pipelines.h"

#include "backend/vulkan/embedded_shaders.h"
#include "backend/vulkan/vk_check.h"
#include "util/error.h"

namespace anychip::vulkan {

Pipelines::Pipelines(const Context& ctx) : ctx_(ctx) {
  VkDescriptorSetLayoutBinding bindings[kBindings];
  for (uint32_t i = 0; i < kBindings; ++i) {
    bindings[i] = VkDescriptorSetLayoutBinding{i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
  }
  VkDescriptorSetLayoutCreateInfo dci{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
  dci.bindingCount = kBindings;
  dci.pBindings = bindings;
  check(vkCreateDescriptorSetLayout(ctx.device(), &dci, nullptr, &set_layout_), "vkCreateDescriptorSetLayout");
  const VkPushConstantRange push{VK_SHADER_STAGE_COMPUTE_BIT, 0, kPushBytes};
  VkPipelineLayoutCreateInfo lci{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  lci.setLayoutCount = 1;
  lci.pSetLayouts = &set_layout_;
  lci.pushConstantRangeCount = 1;
  lci.pPushConstantRanges = &push;
  const VkResult r = vkCreatePipelineLayout(ctx.device(), &lci, nullptr, &layout_);
  if (r != VK_SUCCESS) {
    vkDestroyDescriptorSetLayout(ctx.device(), set_layout_, nullptr);
    check(r, "vkCreatePipelineLayout");
  }
}

Pipelines::~Pipelines() {
  for (auto& [key, p] : pipelines_) vkDestroyPipeline(ctx_.device(), p, nullptr);
  for (auto& [name, m] : modules_) vkDestroyShaderModule(ctx_.device(), m, nullptr);
  vkDestroyPipelineLayout(ctx_.device(), layout_, nullptr);
  vkDestroyDescriptorSetLayout(ctx_.device(), set_layout_, nullptr);
}

VkShaderModule Pipelines::module_for(const std::string& shader) {
  if (auto it = modules_.find(shader); it != modules_.end()) return it->second;
  // The shader was compiled for every combination of the features it uses; take the one that
  // matches what the device has (and ANYCHIP_VULKAN_DISABLE left on).
  uint32_t uses = 0;
  for (const EmbeddedShader& s : embedded_shaders()) {
    if (shader == s.name) uses |= s.features;
  }
  const uint32_t want = uses & ctx_.features().mask();
  for (const EmbeddedShader& s : embedded_shaders()) {
    if (shader != s.name || s.features != want) continue;
    VkShaderModuleCreateInfo ci{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
    ci.codeSize = s.words * sizeof(uint32_t);
    ci.pCode = s.code;
    VkShaderModule m = VK_NULL_HANDLE;
    check(vkCreateShaderModule(ctx_.device(), &ci, nullptr, &m), ("vkCreateShaderModule(" + shader + ")").c_str());
    modules_[shader] = m;
    return m;
  }
  throw Error("vulkan: no embedded shader '" + shader + "' for features " + std::to_string(want));
}

VkPipeline Pipelines::get(const std::string& shader, const std::vector<uint32_t>& spec) {
  auto key = std::make_pair(shader, spec);
  if (auto it = pipelines_.find(key); it != pipelines_.end()) return it->second;
  std::vector<VkSpecializationMapEntry> entries(spec.size());
  for (size_t i = 0; i < spec.size(); ++i) {
    entries[i] = VkSpecializationMapEntry{static_cast<uint32_t>(i), static_cast<uint32_t>(i * sizeof(uint32_t)), sizeof(uint32_t)};
  }
  VkSpecializationInfo si{static_cast<uint32_t>(entries.size()), entries.data(), spec.size() * sizeof(uint32_t), spec.data()};
  VkComputePipelineCreateInfo ci{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
  ci.stage = VkPipelineShaderStageCreateInfo{VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
  ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  ci.stage.module = module_for(shader);
  ci.stage.pName = "main";
  ci.stage.pSpecializationInfo = &si;
  ci.layout = layout_;
  VkPipeline p = VK_NULL_HANDLE;
  check(vkCreateComputePipelines(ctx_.device(), VK_NULL_HANDLE, 1, &ci, nullptr, &p),
        ("vkCreateComputePipelines(" + shader + ")").c_str());
  pipelines_.emplace(std::move(key), p);
  return p;
}

}  // namespace anychip::vulkan
