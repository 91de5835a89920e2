#pragma once
// Shared by the Vulkan op tests: a Vulkan device per feature mode (normal, and with features
// forced off through ANYCHIP_VULKAN_DISABLE so the fallback shaders run), created once per mode
// and skipped with a visible message where there is no Vulkan device; plus helpers that move
// host data into device tensors and back.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backend/registry.h"
#include "util/error.h"
#ifdef ANYCHIP_HAVE_VULKAN
#include "backend/vulkan/vulkan_backend.h"
#endif

namespace anychip::testing {

// "" = every feature the device has; the others force fallbacks (see ANYCHIP_VULKAN_DISABLE).
inline const char* const kVulkanModes[] = {"", "subgroup", "int8storage", "all"};

inline std::string mode_name(const ::testing::TestParamInfo<const char*>& info) {
  return info.param[0] ? info.param : "native";
}

struct VulkanDeviceOrReason {
  std::unique_ptr<backend::Device> device;
  std::string reason;
};

// The device for a mode, created once; null (with the reason) when there is no Vulkan device.
inline VulkanDeviceOrReason& vulkan_device(const std::string& mode) {
  static std::map<std::string, VulkanDeviceOrReason> devices;
  auto [it, inserted] = devices.try_emplace(mode);
  if (inserted) {
    const char* old = std::getenv("ANYCHIP_VULKAN_DISABLE");
    const std::string saved = old ? old : "";
    setenv("ANYCHIP_VULKAN_DISABLE", mode.c_str(), 1);
    try {
      it->second.device = backend::create_device("vulkan");
    } catch (const Error& e) {
      it->second.reason = e.what();
    }
    if (old) setenv("ANYCHIP_VULKAN_DISABLE", saved.c_str(), 1); else unsetenv("ANYCHIP_VULKAN_DISABLE");
  }
  return it->second;
}

class VulkanTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    VulkanDeviceOrReason& d = vulkan_device(GetParam());
    if (!d.device) GTEST_SKIP() << "skipped: no Vulkan device (" << d.reason << ")";
    dev = d.device.get();
  }

  // A device tensor holding `bytes` (row-major rows of `row_stride`), placed `offset` bytes into
  // its buffer so that shaders see unaligned tensor starts as they do inside a model file.
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

}  // namespace anychip::testing
