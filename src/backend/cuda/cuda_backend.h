#pragma once
// The CUDA backend's only public face: what the registry and tests need. Everything else in
// this folder is private to the backend. Free of CUDA headers, so callers compile without them.
#include <memory>
#include <string>
#include <vector>

#include "backend/cuda/stream_stats.h"
#include "backend/device.h"

namespace anychip::cuda {

// The device cuda:index. Throws anychip::Error when there is no such device ("no CUDA device:
// <the runtime's reason>"), or the GPU is older than the kernels' oldest architecture.
std::unique_ptr<backend::Device> create_device(int index);
// Every CUDA device the runtime sees (empty without a driver or GPU).
std::vector<backend::DeviceInfo> list_devices();
// Why list_devices() is empty ("" when it is not): the runtime's reason.
std::string no_device_reason();
// Flush statistics of a CUDA device; all zero for a device of another backend.
StreamStats stream_stats(const backend::Device& device);

}  // namespace anychip::cuda
