#pragma once
// The device's one stream, in the deferred style of the Vulkan backend: ops are recorded as
// launches with their arguments and run when the host needs a result (flush: synchronize, a
// buffer read or write). Host-side arguments (token ids, positions, block tables) are copied at
// record time into page-locked staging memory and reach the GPU in one copy at the start of the
// flush, so callers may free them as soon as an op returns.
//
// CUDA graphs: every recorded launch appends its kernel name and argument bytes to a signature.
// A flush whose signature was seen before replays a captured graph instead of launching each
// kernel: a decode step of an unchanged batch shape records identical launches (the changing
// token ids, positions and block tables live in the staging copy, not in kernel arguments), so
// from the second such step on it runs as one graph launch. ANYCHIP_CUDA_GRAPHS=0 turns graphs
// off; by default flushes that call cuBLAS (batches above kMatvecMaxTokens tokens) run eagerly,
// ANYCHIP_CUDA_GRAPHS=all captures those too. A failed capture turns graphs off with a warning.
//
// Rule for ops: upload() and scratch growth may flush what is already recorded, so an op makes
// at most one upload, after any scratch allocation, and records its launches after both.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/device_memory.h"
#include "backend/cuda/graph_cache.h"
#include "backend/cuda/stream_stats.h"

namespace anychip::cuda {

enum class GraphMode { Off, WithoutBlas, All };
// ANYCHIP_CUDA_GRAPHS: "0" Off, "all" All, anything else (or unset) WithoutBlas.
GraphMode graph_mode_from_env();

class Stream {
 public:
  explicit Stream(int device);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Makes this stream's device current on the calling thread (the runtime's device is per thread).
  void activate() const;
  cudaStream_t get() const { return stream_; }

  // Copies `bytes` of host data for the ops about to be recorded; returns the device address
  // they will have while the recorded work runs (until the end of the next flush). Data equal
  // to a recent upload of this batch is shared.
  const void* upload(const void* data, size_t bytes);

  template <class Args>
  void record(const char* kernel, const Args& args, void (*launch)(const Args&, cudaStream_t)) {
    static_assert(std::is_trivially_copyable_v<Args>);
    append_signature(kernel, &args, sizeof args);
    ops_.push_back([args, launch, kernel](cudaStream_t s) {
      launch(args, s);
      check_launch(kernel);
    });
  }
  // A cuBLAS call; `key` must identify it completely (operation, shapes, pointers).
  void record_blas(std::string_view key, std::function<void(cublasHandle_t)> call);

  // Runs everything recorded and waits for it; a no-op when nothing is recorded.
  void flush();

  const StreamStats& stats() const { return stats_; }
  // Counts flushes: device data derived from buffers before a flush (which also precedes every
  // host write) may be stale after it.
  uint64_t epoch() const { return epoch_; }

 private:
  void append_signature(const char* kernel, const void* args, size_t bytes);
  void run_recorded();
  bool run_as_graph();
  void reset();

  struct UploadRecord {
    size_t offset = 0, bytes = 0;
  };

  int device_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t blas_ = nullptr;
  DeviceMemory blas_workspace_;
  PinnedMemory staging_;
  DeviceMemory arena_;  // where staging_ is copied; same size
  size_t used_ = 0;
  std::vector<UploadRecord> uploads_;
  std::vector<std::function<void(cudaStream_t)>> ops_;
  std::string signature_;
  bool uses_blas_ = false;
  uint64_t epoch_ = 0;
  GraphMode mode_;
  GraphCache graphs_;
  StreamStats stats_;
};

}  // namespace anychip::cuda
