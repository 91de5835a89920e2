#pragma once
// Shared by the CUDA op tests: the cuda device, created once per graph mode through the
// registry (or, in the emulation test binary, the emulated backend directly) and skipped with a visible "skipped: no CUDA device (<reason>)" where there is none
// (no GPU, no driver, or a build without the CUDA backend); plus helpers that move host data
// into device tensors and back.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backend/registry.h"
#include "util/error.h"
#ifdef ANYCHIP_CUDA_EMULATION
#include "backend/cuda/cuda_backend.h"
#endif

namespace anychip::testing::cudatest {

struct DeviceOrReason {
  std::unique_ptr<backend::Device> device;
  std::string reason;
};

// The device with ANYCHIP_CUDA_GRAPHS set to `graphs` while it is created ("" = default).
inline DeviceOrReason& cuda_device(const std::string& graphs = "") {
  static std::map<std::string, DeviceOrReason> devices;
  auto [it, inserted] = devices.try_emplace(graphs);
  if (inserted) {
    const char* old = std::getenv("ANYCHIP_CUDA_GRAPHS");
    const std::string saved = old ? old : "";
    if (graphs.empty()) unsetenv("ANYCHIP_CUDA_GRAPHS"); else setenv("ANYCHIP_CUDA_GRAPHS", graphs.c_str(), 1);
    try {
#ifdef ANYCHIP_CUDA_EMULATION
      it->second.device = cuda::create_device(0);  // the emulated backend (tests/cuda_emulator)
#else
      it->second.device = backend::create_device("cuda");
#endif
    } catch (const Error& e) {
      it->second.reason = e.what();
    }
    if (old) setenv("ANYCHIP_CUDA_GRAPHS", saved.c_str(), 1); else unsetenv("ANYCHIP_CUDA_GRAPHS");
  }
  return it->second;
}

inline std::vector<float> random_floats(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = normal(rng);
  return v;
}

class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DeviceOrReason& d = cuda_device();
    if (!d.device) GTEST_SKIP() << "skipped: no CUDA device (" << d.reason << ")";
    dev = d.device.get();
  }

  // A device tensor holding `bytes` (rows of `row_stride`), placed `offset` bytes into its
  // buffer so kernels see unaligned tensor starts as they do inside a model file.
  backend::Tensor upload(const void* data, size_t bytes, GgmlType type, int64_t cols, int64_t rows, size_t row_stride,
                         size_t offset = 0) {
    buffers.push_back(dev->alloc(offset + bytes + 16));
    if (bytes) buffers.back()->write(offset, data, bytes);
    backend::Tensor t;
    t.buffer = buffers.back().get();
    t.offset = offset;
    t.type = type;
    t.cols = cols;
    t.rows = rows;
    t.row_stride = row_stride;
    return t;
  }
  backend::Tensor upload_f32(const std::vector<float>& v, int64_t cols, size_t offset = 0) {
    return upload(v.data(), v.size() * sizeof(float), GgmlType::F32, cols, static_cast<int64_t>(v.size()) / cols,
                  static_cast<size_t>(cols) * sizeof(float), offset);
  }
  std::vector<float> download_f32(const backend::Tensor& t) {
    std::vector<float> v(static_cast<size_t>(t.rows * t.cols));
    for (int64_t r = 0; r < t.rows; ++r) {
      t.buffer->read(t.offset + static_cast<size_t>(r) * t.row_stride, v.data() + r * t.cols,
                     static_cast<size_t>(t.cols) * sizeof(float));
    }
    return v;
  }

  backend::Device* dev = nullptr;
  std::vector<std::unique_ptr<backend::Buffer>> buffers;
};

}  // namespace anychip::testing::cudatest
