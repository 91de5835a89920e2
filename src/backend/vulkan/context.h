#pragma once
// One Vulkan instance + logical device + compute queue, chosen by index among the physical
// devices that can run compute, with the optional features the shaders can use switched on.
#include <vulkan/vulkan.h>

#include <cstdint>
#include <vector>

#include "backend/device.h"
#include "backend/vulkan/features.h"

namespace anychip::vulkan {

class Context {
 public:
  // index: position in list_devices(). Throws anychip::Error when there is no loader, driver or
  // such device, or the device is older than Vulkan 1.1.
  explicit Context(int index);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  VkDevice device() const { return device_; }
  VkPhysicalDevice physical() const { return physical_; }
  VkQueue queue() const { return queue_; }
  uint32_t queue_family() const { return queue_family_; }
  const VkPhysicalDeviceLimits& limits() const { return props_.limits; }
  VkPhysicalDeviceType type() const { return props_.deviceType; }
  // Valid bits of the compute queue's timestamps; 0 when it cannot write them.
  uint32_t timestamp_bits() const { return timestamp_bits_; }
  // Nanoseconds from one of the compute queue's timestamps to a later one (the counter wraps at
  // its valid bits).
  double timestamp_ns(uint64_t from, uint64_t to) const {
    const uint64_t mask = timestamp_bits_ >= 64 ? ~uint64_t{0} : (uint64_t{1} << timestamp_bits_) - 1;
    return static_cast<double>((to - from) & mask) * props_.limits.timestampPeriod;
  }
  const VkPhysicalDeviceMemoryProperties& memory() const { return memory_; }
  const Features& features() const { return features_; }
  const backend::DeviceInfo& info() const { return info_; }

 private:
  VkInstance instance_ = VK_NULL_HANDLE;
  VkPhysicalDevice physical_ = VK_NULL_HANDLE;
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  uint32_t queue_family_ = 0;
  uint32_t timestamp_bits_ = 0;
  VkPhysicalDeviceProperties props_{};
  VkPhysicalDeviceMemoryProperties memory_{};
  Features features_;
  backend::DeviceInfo info_;
};

// Every Vulkan device with a compute queue; empty when there is no loader, driver or device.
std::vector<backend::DeviceInfo> list_devices();

}  // namespace anychip::vulkan
