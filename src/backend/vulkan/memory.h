#pragma once
// A VkBuffer with its own memory. Device-local memory that the host can also map through its
// caches (unified memory: integrated GPUs, lavapipe) is mapped and written directly; otherwise
// (discrete GPUs) data moves through a staging buffer.
#include <vulkan/vulkan.h>

#include <cstddef>

#include "backend/vulkan/context.h"

namespace anychip::vulkan {

enum class Placement {
  Device,  // for tensors: device-local, mapped too when the device is unified-memory
  Host,    // for uploads and staging: host-visible and coherent
};

class GpuBuffer {
 public:
  GpuBuffer(const Context& ctx, size_t bytes, Placement placement);  // throws anychip::Error
  ~GpuBuffer();
  GpuBuffer(const GpuBuffer&) = delete;
  GpuBuffer& operator=(const GpuBuffer&) = delete;

  VkBuffer handle() const { return buffer_; }
  size_t size() const { return size_; }
  uint8_t* mapped() const { return mapped_; }  // null when the host cannot address it

 private:
  const Context& ctx_;
  VkBuffer buffer_ = VK_NULL_HANDLE;
  VkDeviceMemory memory_ = VK_NULL_HANDLE;
  uint8_t* mapped_ = nullptr;
  size_t size_ = 0;
};

}  // namespace anychip::vulkan
