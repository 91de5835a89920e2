#pragma once
// Test-only stand-in for <cuda_runtime.h>: the slice of the CUDA runtime and of the kernel
// language that src/backend/cuda uses, implemented on the CPU (../runtime.cpp, ../simt.cpp), so
// the whole backend, host code and kernels, runs in tests on machines without a GPU. Kernels run
// block by block; the threads of a block are fibers that switch at barriers and warp shuffles,
// so warp-synchronous code behaves as on a GPU. Device memory is host memory with a guard page
// after each allocation; stream capture records launches and copies into replayable graphs.
// Launch limits (block size, grid.y/z, shared memory) are checked as the GPU would.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>

namespace cuda_emulator {

struct uint3 {
  unsigned x = 0, y = 0, z = 0;
};
struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
struct alignas(16) int4 {
  int x, y, z, w;
};
struct alignas(16) uint4 {
  unsigned x, y, z, w;
};
struct alignas(8) float2 {
  float x, y;
};
struct alignas(16) float4 {
  float x, y, z, w;
};
inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return {x, y, z, w}; }

// ---- kernel language
inline thread_local uint3 threadIdx, blockIdx;
inline thread_local dim3 blockDim, gridDim;

void __syncthreads();
// Exchanges `bits` among the lanes of the calling warp; returns lane src's value.
uint64_t shuffle_bits(uint64_t bits, int src_lane);
int lane_id();

template <class T>
T shuffle_from(T v, int src) {
  static_assert(sizeof(T) <= sizeof(uint64_t));
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof v);
  bits = shuffle_bits(bits, src);
  T out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}
// Read-only cache loads are plain loads here.
template <class T>
T __ldg(const T* p) {
  return *p;
}

template <class T>
T __shfl_xor_sync(unsigned, T v, int lane_mask) {
  return shuffle_from(v, lane_id() ^ lane_mask);
}
template <class T>
T __shfl_sync(unsigned, T v, int src_lane) {
  return shuffle_from(v, src_lane);
}
inline int max(int a, int b) { return a > b ? a : b; }
inline int min(int a, int b) { return a < b ? a : b; }

// ---- runtime
enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidDevice = 101,
  cudaErrorStreamCaptureUnsupported = 900,
  cudaErrorStreamCaptureInvalidated = 901,
};
enum cudaMemcpyKind { cudaMemcpyHostToHost = 0, cudaMemcpyHostToDevice = 1, cudaMemcpyDeviceToHost = 2 };
enum cudaStreamCaptureMode { cudaStreamCaptureModeGlobal = 0, cudaStreamCaptureModeThreadLocal = 1 };
enum cudaDeviceAttr { cudaDevAttrMultiProcessorCount = 16 };
inline constexpr unsigned cudaStreamNonBlocking = 1;
inline constexpr unsigned cudaHostAllocDefault = 0;

struct Stream;
struct Graph;
struct Event;
using cudaStream_t = Stream*;
using cudaGraph_t = Graph*;
using cudaGraphExec_t = Graph*;
using cudaEvent_t = Event*;

struct cudaDeviceProp {
  char name[256];
  size_t totalGlobalMem;
  int major, minor, multiProcessorCount;
};

const char* cudaGetErrorString(cudaError_t e);
cudaError_t cudaGetLastError();
cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* props, int device);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device);
cudaError_t cudaMemGetInfo(size_t* free, size_t* total);
cudaError_t cudaMalloc(void** ptr, size_t bytes);
cudaError_t cudaFree(void* ptr);
cudaError_t cudaHostAlloc(void** ptr, size_t bytes, unsigned flags);
cudaError_t cudaFreeHost(void* ptr);
cudaError_t cudaMemsetAsync(void* ptr, int value, size_t bytes, cudaStream_t s);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t s);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t s);
cudaError_t cudaStreamSynchronize(cudaStream_t s);
cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode mode);
cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t* graph);
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long flags);
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t s);
cudaError_t cudaGraphDestroy(cudaGraph_t graph);
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec);
cudaError_t cudaEventCreate(cudaEvent_t* e);
cudaError_t cudaEventDestroy(cudaEvent_t e);
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s);
cudaError_t cudaEventSynchronize(cudaEvent_t e);
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t stop);

// ---- the emulator's own entry points (used by src/backend/cuda/kernels/kernel_common.cuh)
// Runs (or, while `stream` is capturing, records) `body` for every thread of the grid.
void run_grid(dim3 grid, dim3 block, size_t shared_bytes, cudaStream_t stream, std::function<void()> body);
// The current block's dynamic shared memory.
void* dynamic_shared();
// Records `work` into the graph `stream` is capturing; false when it is not capturing.
bool capture(cudaStream_t stream, std::function<void()> work);
// Launches, copies and cuBLAS calls so far (for tests of the emulator itself).
struct Counters {
  uint64_t kernels = 0, blocks = 0, graph_launches = 0;
};
Counters counters();

}  // namespace cuda_emulator

using namespace cuda_emulator;

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __launch_bounds__(...)
