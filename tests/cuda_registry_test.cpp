// Selecting the CUDA backend from the command line and the registry: on a machine without a GPU
// (or a build without CUDA) `--device cuda` must fail with a clear, user-facing error and
// `info --devices` must say why there is no CUDA device; with a GPU, cuda:0 is created and listed.
// These run everywhere: they check the no-GPU behaviour where there is no GPU.
#include <gtest/gtest.h>

#include <string>

#include "backend/registry.h"
#include "support/run_command.h"
#include "util/error.h"

namespace anychip::testing {
namespace {

bool has_cuda_device() {
  for (const auto& d : backend::list_devices()) {
    if (d.backend == "cuda") return true;
  }
  return false;
}

std::string creation_error(const std::string& spec) {
  try {
    backend::create_device(spec);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(CudaRegistry, CudaDeviceIsCreatedOrRefusedWithTheReason) {
  if (has_cuda_device()) {
    auto dev = backend::create_device("cuda:0");
    EXPECT_EQ(dev->info().backend, "cuda");
    EXPECT_GT(dev->info().memory_bytes, 0u);
    return;
  }
  const std::string error = creation_error("cuda");
#ifdef ANYCHIP_HAVE_CUDA
  EXPECT_EQ(error.rfind("no CUDA device: ", 0), 0u) << error;
  EXPECT_GT(error.size(), std::string("no CUDA device: ").size()) << "the runtime's reason is missing";
#else
  EXPECT_NE(error.find("unknown or unavailable device 'cuda'"), std::string::npos) << error;
#endif
}

TEST(CudaRegistry, BadIndicesAreUserErrors) {
#ifdef ANYCHIP_HAVE_CUDA
  EXPECT_NE(creation_error("cuda:x").find("bad device index"), std::string::npos);
#else
  EXPECT_NE(creation_error("cuda:x").find("unknown or unavailable device 'cuda:x'"), std::string::npos);
#endif
  const std::string far = creation_error("cuda:999");
  EXPECT_FALSE(far.empty());
  if (has_cuda_device()) {
    EXPECT_NE(far.find("cuda:999"), std::string::npos) << far;
  }
}

TEST(CudaRegistry, InfoDevicesListsCudaOrSaysWhyNot) {
  const CommandResult r = run_anychip({"info", "--devices"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("cpu:0"), std::string::npos) << r.out;
  if (has_cuda_device()) {
    EXPECT_NE(r.out.find("cuda:0"), std::string::npos) << r.out;
  } else {
    EXPECT_NE(r.out.find("cuda: "), std::string::npos) << "no line explains the missing CUDA device:\n" << r.out;
  }
}

TEST(CudaRegistry, RunOnAMissingCudaDeviceFailsCleanly) {
  if (has_cuda_device()) GTEST_SKIP() << "skipped: a CUDA device is present (the error path needs none)";
  const CommandResult r = run_anychip({"run", "-m", ANYCHIP_SHARED_DIR "/models/aidreams-260k.gguf", "-p", "hi", "-n", "2",
                                       "--device", "cuda"});
  EXPECT_EQ(r.signal, 0) << "crashed";
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
#ifdef ANYCHIP_HAVE_CUDA
  EXPECT_NE(r.err.find("no CUDA device"), std::string::npos) << r.err;
#endif
}

}  // namespace
}  // namespace anychip::testing
