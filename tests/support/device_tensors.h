#pragma once
// What every device op test needs whatever the backend: host data into device tensors and back,
// reproducible random inputs, and a relative comparison. The per-backend fixtures
// (vulkan_fixture.h, cuda_fixture.h) only say how their device is made and when it is missing.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "backend/device.h"

namespace anychip::testing {

class DeviceTensors {
 protected:
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

inline std::vector<float> random_floats(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = normal(rng);
  return v;
}

inline void expect_close(const std::vector<float>& got, const std::vector<float>& want, float rel, const char* what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_NEAR(got[i], want[i], rel * std::fabs(want[i]) + 1e-6f) << what << " element " << i;
  }
}

}  // namespace anychip::testing
