#pragma once
// Which CUDA devices the runtime sees, described as backend::DeviceInfo, and why there are none.
#include <string>
#include <vector>

#include "backend/device.h"

namespace anychip::cuda {

struct Enumeration {
  int count = 0;
  std::string error;  // the runtime's reason when count is 0 (no driver, no device)
};

Enumeration enumerate_devices();
// The device cuda:index; assumes index < enumerate_devices().count.
backend::DeviceInfo describe_device(int index);

// The compute capability the kernels need at least (the oldest architecture they are built for).
inline constexpr int kMinComputeCapability = 80;

}  // namespace anychip::cuda
