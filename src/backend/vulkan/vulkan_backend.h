#pragma once
// The Vulkan backend's only public face: what the registry and tests need. Everything else in
// this folder is private to the backend.
#include <memory>
#include <string>
#include <vector>

#include "backend/device.h"
#include "backend/vulkan/timing_stats.h"

namespace anychip::vulkan {

// The device vulkan:index. Throws anychip::Error when there is no such device (or no driver).
std::unique_ptr<backend::Device> create_device(int index);
// Every Vulkan device with a compute queue (empty without a driver).
std::vector<backend::DeviceInfo> list_devices();
// The optional features a Vulkan device's shaders use ("subgroup fp16 int8storage", "none"),
// after ANYCHIP_VULKAN_DISABLE; "" for a device of another backend.
std::string features_in_use(const backend::Device& device);
// GPU time per dispatch label so far, when the device was made with ANYCHIP_VULKAN_TIMING=1
// (enabled is false otherwise, and for a device of another backend).
TimingStats timing_stats(const backend::Device& device);

}  // namespace anychip::vulkan
