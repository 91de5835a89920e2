// The CUDA emulator's runtime and cuBLAS: device memory as host memory followed by a guard page
// (a kernel reading past an allocation faults), streams that run work immediately, stream
// capture that records the work into a graph for replay, and the errors the real runtime gives
// for the misuses the backend must avoid: bad launch configurations, allocating or
// synchronizing while a capture is open.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <vector>

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "emulator_internal.h"
#include "quant/quant.h"

namespace cuda_emulator {

struct Stream {
  Graph* capturing = nullptr;
};
struct Graph {
  std::vector<std::function<void()>> nodes;
};
struct Event {};
struct Blas {
  cudaStream_t stream = nullptr;
};

namespace {

constexpr size_t kTotalMemory = size_t{8} << 30;
constexpr size_t kMaxSharedPerBlock = 48 << 10;

struct Mapping {
  void* base;
  size_t length;
  size_t bytes;
};

struct State {
  cudaError_t last_error = cudaSuccess;
  std::map<void*, Mapping> allocations;
  size_t allocated = 0;
  int capturing_streams = 0;
  Counters counters;
};

// Never destroyed: devices held in static storage free their memory during exit, after a
// function-local static State would already be gone.
State& state() {
  static State* s = new State;
  return *s;
}

cudaError_t fail(cudaError_t e) {
  state().last_error = e;
  return e;
}

size_t page() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

}  // namespace

void note_block() { ++state().counters.blocks; }

Counters counters() { return state().counters; }

const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated: return "operation failed due to a previous error during capture";
  }
  return "unknown error";
}

cudaError_t cudaGetLastError() {
  const cudaError_t e = state().last_error;
  state().last_error = cudaSuccess;
  return e;
}

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* props, int device) {
  if (device != 0) return fail(cudaErrorInvalidDevice);
  std::memset(props, 0, sizeof *props);
  std::snprintf(props->name, sizeof props->name, "CUDA emulator");
  props->totalGlobalMem = kTotalMemory;
  props->major = 9;
  props->minor = 0;
  props->multiProcessorCount = 4;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) { return device == 0 ? cudaSuccess : fail(cudaErrorInvalidDevice); }

cudaError_t cudaGetDevice(int* device) {
  *device = 0;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (attr != cudaDevAttrMultiProcessorCount || device != 0) return fail(cudaErrorInvalidValue);
  *value = 4;
  return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free, size_t* total) {
  *total = kTotalMemory;
  *free = kTotalMemory - state().allocated;
  return cudaSuccess;
}

cudaError_t cudaMalloc(void** ptr, size_t bytes) {
  State& s = state();
  if (s.capturing_streams > 0) return fail(cudaErrorStreamCaptureUnsupported);
  if (bytes > kTotalMemory - s.allocated) return fail(cudaErrorMemoryAllocation);
  // The allocation ends (rounded to 256 bytes, cudaMalloc's alignment) where a guard page begins.
  const size_t rounded = (bytes + 255) / 256 * 256;
  const size_t length = (rounded + page() - 1) / page() * page() + page();
  void* base = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) return fail(cudaErrorMemoryAllocation);
  char* guard = static_cast<char*>(base) + length - page();
  mprotect(guard, page(), PROT_NONE);
  *ptr = guard - rounded;
  std::memset(*ptr, 0xAB, rounded);  // garbage, as fresh device memory is
  s.allocations[*ptr] = {base, length, bytes};
  s.allocated += bytes;
  return cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
  if (!ptr) return cudaSuccess;
  State& s = state();
  auto it = s.allocations.find(ptr);
  if (it == s.allocations.end()) return fail(cudaErrorInvalidValue);
  munmap(it->second.base, it->second.length);
  s.allocated -= it->second.bytes;
  s.allocations.erase(it);
  return cudaSuccess;
}

cudaError_t cudaHostAlloc(void** ptr, size_t bytes, unsigned) {
  if (state().capturing_streams > 0) return fail(cudaErrorStreamCaptureUnsupported);
  *ptr = std::aligned_alloc(4096, (bytes + 4095) / 4096 * 4096);
  return *ptr ? cudaSuccess : fail(cudaErrorMemoryAllocation);
}

cudaError_t cudaFreeHost(void* ptr) {
  std::free(ptr);
  return cudaSuccess;
}

bool capture(cudaStream_t stream, std::function<void()> work) {
  if (!stream || !stream->capturing) return false;
  stream->capturing->nodes.push_back(std::move(work));
  return true;
}

cudaError_t cudaMemsetAsync(void* ptr, int value, size_t bytes, cudaStream_t s) {
  auto work = [=] { std::memset(ptr, value, bytes); };
  if (!capture(s, work)) work();
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind, cudaStream_t s) {
  auto work = [=] { std::memcpy(dst, src, bytes); };
  if (!capture(s, work)) work();
  return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned) {
  *s = new Stream;
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t s) {
  delete s;
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t s) {
  if (s && s->capturing) return fail(cudaErrorStreamCaptureUnsupported);
  return cudaSuccess;
}

cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode) {
  if (!s || s->capturing) return fail(cudaErrorInvalidValue);
  s->capturing = new Graph;
  ++state().capturing_streams;
  return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t* graph) {
  if (!s || !s->capturing) return fail(cudaErrorInvalidValue);
  *graph = s->capturing;
  s->capturing = nullptr;
  --state().capturing_streams;
  return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
  *exec = new Graph(*graph);
  return cudaSuccess;
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t s) {
  if (s && s->capturing) return fail(cudaErrorStreamCaptureUnsupported);
  ++state().counters.graph_launches;
  for (auto& node : exec->nodes) node();
  return cudaSuccess;
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  delete graph;
  return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  delete exec;
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* e) {
  *e = new Event;
  return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t e) {
  delete e;
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t, cudaStream_t) { return cudaSuccess; }
cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t, cudaEvent_t) {
  *ms = 1.0f;  // no clock to read: the emulator says nothing about speed
  return cudaSuccess;
}

void run_grid(dim3 grid, dim3 block, size_t shared_bytes, cudaStream_t stream, std::function<void()> body) {
  const unsigned long long threads = static_cast<unsigned long long>(block.x) * block.y * block.z;
  if (threads == 0 || threads > 1024 || block.z > 64 || grid.x == 0 || grid.y == 0 || grid.z == 0 ||
      grid.x > 0x7fffffffu || grid.y > 65535 || grid.z > 65535 || shared_bytes > kMaxSharedPerBlock) {
    fail(cudaErrorInvalidConfiguration);
    return;
  }
  ++state().counters.kernels;
  auto work = [=] { execute_grid(grid, block, shared_bytes, body); };
  if (!capture(stream, work)) work();
}

float __half2float(__half h) { return anychip::quant::fp16_to_fp32(h.bits); }
__half __float2half_rn(float f) { return {anychip::quant::fp32_to_fp16(f)}; }
float __bfloat162float(__nv_bfloat16 h) { return anychip::quant::bf16_to_fp32(h.bits); }
__nv_bfloat16 __float2bfloat16_rn(float f) { return {anychip::quant::fp32_to_bf16(f)}; }

// ---- cuBLAS

cublasStatus_t cublasCreate(cublasHandle_t* handle) {
  *handle = new Blas;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDestroy(cublasHandle_t handle) {
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream) {
  handle->stream = stream;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetWorkspace(cublasHandle_t, void*, size_t) { return CUBLAS_STATUS_SUCCESS; }

const char* cublasGetStatusString(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
  }
  return "unknown cuBLAS status";
}

namespace {

float element(const void* p, cudaDataType_t type, size_t i) {
  switch (type) {
    case CUDA_R_32F: return static_cast<const float*>(p)[i];
    case CUDA_R_16F: return anychip::quant::fp16_to_fp32(static_cast<const uint16_t*>(p)[i]);
    case CUDA_R_16BF: return anychip::quant::bf16_to_fp32(static_cast<const uint16_t*>(p)[i]);
  }
  std::abort();
}

}  // namespace

cublasStatus_t cublasGemmEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                            int k, const void* alpha, const void* a, cudaDataType_t a_type, int lda, const void* b,
                            cudaDataType_t b_type, int ldb, const void* beta, void* c, cudaDataType_t c_type, int ldc,
                            cublasComputeType_t compute, cublasGemmAlgo_t) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  // Only what the backend calls: C = alpha * A^T B + beta * C, f32 output and accumulation.
  if (transa != CUBLAS_OP_T || transb != CUBLAS_OP_N || c_type != CUDA_R_32F || compute != CUBLAS_COMPUTE_32F ||
      a_type != b_type) {
    return CUBLAS_STATUS_NOT_SUPPORTED;
  }
  if (m < 0 || n < 0 || k < 0 || lda < (k > 1 ? k : 1) || ldb < (k > 1 ? k : 1) || ldc < (m > 1 ? m : 1)) {
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  const float al = *static_cast<const float*>(alpha), be = *static_cast<const float*>(beta);
  auto work = [=] {
    auto* out = static_cast<float*>(c);
    for (int j = 0; j < n; ++j) {
      for (int i = 0; i < m; ++i) {
        float acc = 0.0f;
        for (int l = 0; l < k; ++l) {
          acc = std::fma(element(a, a_type, static_cast<size_t>(i) * lda + l), element(b, b_type, static_cast<size_t>(j) * ldb + l), acc);
        }
        float& dst = out[static_cast<size_t>(j) * ldc + i];
        dst = al * acc + (be != 0.0f ? be * dst : 0.0f);
      }
    }
  };
  if (!capture(handle->stream, work)) work();
  return CUBLAS_STATUS_SUCCESS;
}

}  // namespace cuda_emulator
