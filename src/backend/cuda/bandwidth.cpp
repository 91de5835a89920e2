// measure_read_bandwidth_gbs: the GPU memory roofline that `anychip bench` judges generation by.
#include <cuda_runtime.h>

#include <algorithm>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_device.h"
#include "backend/cuda/kernels/launch.h"
#include "backend/cuda/memory_fit.h"

namespace anychip::cuda {
namespace {

// Events wrapped so an error between create and destroy does not leak them.
struct Event {
  Event() { check(cudaEventCreate(&e), "cudaEventCreate"); }
  ~Event() { cudaEventDestroy(e); }
  cudaEvent_t e = nullptr;
};

}  // namespace

// Streams a buffer far larger than the L2 cache several times and keeps the best rate.
double CudaDevice::measure_read_bandwidth_gbs() {
  stream_.flush();
  stream_.activate();
  const uint64_t bytes = std::min<uint64_t>(uint64_t{1} << 30, memory_info().free / 4) / 16 * 16;
  if (bytes < (uint64_t{64} << 20)) return 0.0;  // too little free memory to measure honestly
  DeviceMemory buffer(bytes);
  DeviceMemory sink(sizeof(uint32_t));
  check(cudaMemsetAsync(buffer.get(), 1, bytes, stream_.get()), "cudaMemsetAsync");
  Event start, stop;
  double best = 0.0;
  for (int run = 0; run < 6; ++run) {  // the first run warms up
    check(cudaEventRecord(start.e, stream_.get()), "cudaEventRecord");
    kernels::read_probe(buffer.get(), bytes, static_cast<uint32_t*>(sink.get()), stream_.get());
    check_launch("read_probe");
    check(cudaEventRecord(stop.e, stream_.get()), "cudaEventRecord");
    check(cudaEventSynchronize(stop.e), "bandwidth probe");
    float ms = 0.0f;
    check(cudaEventElapsedTime(&ms, start.e, stop.e), "cudaEventElapsedTime");
    if (run > 0 && ms > 0.0f) best = std::max(best, static_cast<double>(bytes) / (ms * 1e-3) / 1e9);
  }
  return best;
}

}  // namespace anychip::cuda
