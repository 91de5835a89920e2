#include "backend/cuda/stream.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "util/error.h"

namespace anychip::cuda {
namespace {

constexpr size_t kInitialStaging = size_t{1} << 20;
constexpr size_t kUploadAlign = 16;
constexpr size_t kBlasWorkspace = size_t{32} << 20;  // fixed, so cuBLAS never allocates while captured
constexpr size_t kDedupWindow = 8;                   // recent uploads compared for sharing

}  // namespace

GraphMode graph_mode_from_env() {
  const char* v = std::getenv("ANYCHIP_CUDA_GRAPHS");
  if (!v) return GraphMode::WithoutBlas;
  if (std::strcmp(v, "0") == 0 || std::strcmp(v, "off") == 0) return GraphMode::Off;
  if (std::strcmp(v, "all") == 0) return GraphMode::All;
  return GraphMode::WithoutBlas;
}

Stream::Stream(int device) : device_(device), mode_(graph_mode_from_env()) {
  activate();
  check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  try {
    check(cublasCreate(&blas_), "cublasCreate");
    check(cublasSetStream(blas_, stream_), "cublasSetStream");
    blas_workspace_ = DeviceMemory(kBlasWorkspace);
    check(cublasSetWorkspace(blas_, blas_workspace_.get(), blas_workspace_.size()), "cublasSetWorkspace");
    staging_ = PinnedMemory(kInitialStaging);
    arena_ = DeviceMemory(kInitialStaging);
  } catch (...) {
    if (blas_) cublasDestroy(blas_);
    cudaStreamDestroy(stream_);
    throw;
  }
}

Stream::~Stream() {
  cudaSetDevice(device_);  // unchecked: a destructor has nobody to report to
  cudaStreamSynchronize(stream_);
  cublasDestroy(blas_);
  cudaStreamDestroy(stream_);
}

void Stream::activate() const { check(cudaSetDevice(device_), "cudaSetDevice"); }

const void* Stream::upload(const void* data, size_t bytes) {
  for (const UploadRecord& u : uploads_) {
    if (u.bytes == bytes && std::memcmp(static_cast<uint8_t*>(staging_.get()) + u.offset, data, bytes) == 0) {
      return static_cast<uint8_t*>(arena_.get()) + u.offset;
    }
  }
  size_t offset = (used_ + kUploadAlign - 1) / kUploadAlign * kUploadAlign;
  if (offset + bytes > staging_.size()) {
    flush();  // the recorded ops have their data; the staging area is free again
    offset = 0;
    if (bytes > staging_.size()) {
      const size_t size = std::max(bytes, staging_.size() * 2);
      activate();
      staging_ = PinnedMemory(0);  // free before allocating the larger one
      staging_ = PinnedMemory(size);
      arena_ = DeviceMemory(0);
      arena_ = DeviceMemory(size);
    }
  }
  if (bytes > 0) std::memcpy(static_cast<uint8_t*>(staging_.get()) + offset, data, bytes);
  used_ = offset + bytes;
  if (uploads_.size() == kDedupWindow) uploads_.erase(uploads_.begin());
  uploads_.push_back({offset, bytes});
  return static_cast<uint8_t*>(arena_.get()) + offset;
}

void Stream::append_signature(const char* kernel, const void* args, size_t bytes) {
  signature_.append(kernel);
  signature_.push_back('\0');
  signature_.append(static_cast<const char*>(args), bytes);
}

void Stream::record_blas(std::string_view key, std::function<void(cublasHandle_t)> call) {
  uses_blas_ = true;
  append_signature("cublas", key.data(), key.size());
  ops_.push_back([this, call = std::move(call)](cudaStream_t) { call(blas_); });
}

void Stream::run_recorded() {
  if (used_ > 0) {
    check(cudaMemcpyAsync(arena_.get(), staging_.get(), used_, cudaMemcpyHostToDevice, stream_), "uploading op arguments");
  }
  for (auto& op : ops_) op(stream_);
}

bool Stream::run_as_graph() {
  if (mode_ == GraphMode::Off || (uses_blas_ && mode_ != GraphMode::All)) return false;
  signature_ += "uploads " + std::to_string(used_);
  if (cudaGraphExec_t exec = graphs_.find(signature_)) {
    check(cudaGraphLaunch(exec, stream_), "cudaGraphLaunch");
    ++stats_.replayed;
    return true;
  }
  if (!graphs_.should_capture(signature_)) return false;
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  try {
    check(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
    try {
      run_recorded();
    } catch (...) {
      cudaStreamEndCapture(stream_, &graph);
      throw;
    }
    check(cudaStreamEndCapture(stream_, &graph), "cudaStreamEndCapture");
    check(cudaGraphInstantiate(&exec, graph, 0), "cudaGraphInstantiate");
  } catch (const Error& e) {
    // Nothing ran: fall back to launching kernel by kernel, now and from now on.
    if (graph) cudaGraphDestroy(graph);
    cudaGetLastError();
    std::fprintf(stderr, "anychip: CUDA graphs turned off (%s)\n", e.what());
    mode_ = GraphMode::Off;
    return false;
  }
  cudaGraphDestroy(graph);
  graphs_.insert(signature_, exec);
  check(cudaGraphLaunch(exec, stream_), "cudaGraphLaunch");
  ++stats_.captured;
  return true;
}

void Stream::flush() {
  if (ops_.empty()) {
    reset();
    return;
  }
  try {
    activate();
    ++stats_.flushes;
    if (!run_as_graph()) {
      run_recorded();
      ++stats_.eager;
    }
    check(cudaStreamSynchronize(stream_), "running the recorded kernels");
  } catch (...) {
    reset();
    throw;
  }
  reset();
}

void Stream::reset() {
  ++epoch_;
  ops_.clear();
  signature_.clear();
  uploads_.clear();
  used_ = 0;
  uses_blas_ = false;
}

}  // namespace anychip::cuda
