#pragma once
#include <memory>
#include <string>
#include <vector>

#include "backend/device.h"

namespace anychip::backend {

struct DeviceOptions {
  int threads = 0;  // CPU worker threads; 0 = all cores
};

// spec: "cpu", "cuda", "cuda:1", "vulkan:0". Throws anychip::Error for unknown or absent devices.
std::unique_ptr<Device> create_device(const std::string& spec, const DeviceOptions& options = {});
// Every device every compiled-in backend can see.
std::vector<DeviceInfo> list_devices();
// One line per backend that has no device to offer, with the reason ("cuda: none found (...)").
std::vector<std::string> device_notes();

}  // namespace anychip::backend
