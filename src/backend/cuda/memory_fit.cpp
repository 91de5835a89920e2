#include "backend/cuda/memory_fit.h"

#include <cuda_runtime.h>

#include "backend/cuda/cuda_check.h"
#include "util/error.h"

namespace anychip::cuda {

MemoryInfo memory_info() {
  MemoryInfo m;
  check(cudaMemGetInfo(&m.free, &m.total), "cudaMemGetInfo");
  return m;
}

std::string mib(uint64_t bytes) { return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB"; }

std::string describe_free_memory() {
  int device = 0;
  cudaGetDevice(&device);
  const MemoryInfo m = memory_info();
  return mib(m.free) + " free of " + mib(m.total) + " on cuda:" + std::to_string(device);
}

void require_fits(uint64_t bytes, const std::string& what, uint64_t headroom) {
  const MemoryInfo m = memory_info();
  if (bytes + headroom > m.free) {
    throw Error("cuda: " + what + " needs " + mib(bytes) + " (plus " + mib(headroom) +
                " for activations and the KV cache) but the device has " + mib(m.free) + " free of " + mib(m.total));
  }
}

}  // namespace anychip::cuda
