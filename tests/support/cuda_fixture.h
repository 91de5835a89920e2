#pragma once
// Shared by the CUDA op tests: the cuda device, created once per graph mode through the
// registry (or, in the emulation test binary, the emulated backend directly) and skipped with a visible "skipped: no CUDA device (<reason>)" where there is none
// (no GPU, no driver, or a build without the CUDA backend). The tensor helpers and the op checks
// shared with the other backends are in device_tensors.h and op_checks.h.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "backend/registry.h"
#include "support/op_checks.h"
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

class CudaTest : public ::testing::Test, public DeviceOpChecks {
 protected:
  void SetUp() override {
    DeviceOrReason& d = cuda_device();
    if (!d.device) GTEST_SKIP() << "skipped: no CUDA device (" << d.reason << ")";
    dev = d.device.get();
  }
};

}  // namespace anychip::testing::cudatest
