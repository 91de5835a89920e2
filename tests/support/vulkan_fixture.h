#pragma once
// Shared by the Vulkan op tests: a Vulkan device per feature mode (normal, and with features
// forced off through ANYCHIP_VULKAN_DISABLE so the fallback shaders run), created once per mode
// and skipped with a visible message where there is no Vulkan device. The tensor helpers and the
// op checks shared with the other backends are in device_tensors.h and op_checks.h.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "backend/registry.h"
#include "support/op_checks.h"
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

inline std::map<std::string, VulkanDeviceOrReason>& vulkan_devices() {
  static std::map<std::string, VulkanDeviceOrReason> devices;
  return devices;
}

// The devices go when the tests end, before exit: a vendor driver loaded during the tests (as
// NVIDIA's is) tears itself down at exit before statics created earlier, and destroying a
// device after that crashes the test binary once every test has passed.
class VulkanDevicesTearDown : public ::testing::Environment {
 public:
  void TearDown() override { vulkan_devices().clear(); }
};
inline ::testing::Environment* const kVulkanDevicesTearDown =
    ::testing::AddGlobalTestEnvironment(new VulkanDevicesTearDown);

// The device for a mode, created once; null (with the reason) when there is no Vulkan device.
inline VulkanDeviceOrReason& vulkan_device(const std::string& mode) {
  auto [it, inserted] = vulkan_devices().try_emplace(mode);
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

class VulkanTest : public ::testing::TestWithParam<const char*>, public DeviceOpChecks {
 protected:
  void SetUp() override {
    VulkanDeviceOrReason& d = vulkan_device(GetParam());
    if (!d.device) GTEST_SKIP() << "skipped: no Vulkan device (" << d.reason << ")";
    dev = d.device.get();
  }
};

}  // namespace anychip::testing
