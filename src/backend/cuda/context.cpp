#include "backend/cuda/context.h"

#include <cuda_runtime.h>

#include "backend/cuda/cuda_check.h"

namespace anychip::cuda {

Enumeration enumerate_devices() {
  Enumeration e;
  const cudaError_t status = cudaGetDeviceCount(&e.count);
  if (status != cudaSuccess) {
    cudaGetLastError();
    e.count = 0;
    e.error = cudaGetErrorString(status);
  } else if (e.count == 0) {
    e.error = "the CUDA runtime reports 0 devices";
  }
  return e;
}

backend::DeviceInfo describe_device(int index) {
  cudaDeviceProp props{};
  check(cudaGetDeviceProperties(&props, index), "cudaGetDeviceProperties");
  backend::DeviceInfo info;
  info.backend = "cuda";
  info.name = std::string(props.name) + " (sm_" + std::to_string(props.major) + std::to_string(props.minor) + ", " +
              std::to_string(props.multiProcessorCount) + " SMs)";
  info.vendor = "NVIDIA";
  info.index = index;
  info.memory_bytes = props.totalGlobalMem;
  info.threads = 1;
  return info;
}

}  // namespace anychip::cuda
