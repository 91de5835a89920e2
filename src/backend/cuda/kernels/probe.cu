// Small kernels for the device itself: a launch check and the memory read-bandwidth probe.
#include "backend/cuda/kernels/launch.h"
#include "backend/cuda/kernels/kernel_common.cuh"

namespace anychip::cuda::kernels {
namespace {

__global__ void noop_kernel() {}

// Grid-stride 16-byte loads folded into an xor; written out only when it matches an unlikely
// value, which keeps the loads from being optimized away without adding write traffic.
__global__ void read_probe_kernel(const uint4* data, uint64_t n, uint32_t* sink) {
  uint32_t x = 0;
  for (uint64_t i = static_cast<uint64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<uint64_t>(gridDim.x) * blockDim.x) {
    const uint4 v = data[i];
    x ^= v.x ^ v.y ^ v.z ^ v.w;
  }
  if (x == 0x9e3779b9u) *sink = x;
}

}  // namespace

void noop(cudaStream_t s) { launch(noop_kernel, 1, 1, 0, s); }

void read_probe(const void* data, uint64_t bytes, uint32_t* sink, cudaStream_t s) {
  int device = 0, sms = 0;
  cudaGetDevice(&device);
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
  constexpr int kThreads = 512;
  launch(read_probe_kernel, sms * 4, kThreads, 0, s, static_cast<const uint4*>(data), bytes / 16, sink);
}

}  // namespace anychip::cuda::kernels
