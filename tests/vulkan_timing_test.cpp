// ANYCHIP_VULKAN_TIMING: with it set, ops recorded into one submission come back with a GPU time
// per label and a count per call, and the labels' times add up to the submission's busy time
// (consecutive timestamps, nothing lost between them). Also prints what recording one small
// dispatch costs the host, the per-op overhead a decode step of a few hundred dispatches pays.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "support/vulkan_fixture.h"

namespace anychip::testing {
namespace {

#ifdef ANYCHIP_HAVE_VULKAN
// A Vulkan device made with ANYCHIP_VULKAN_TIMING set to `timing` ("" = unset).
std::unique_ptr<backend::Device> device_with_timing(const char* timing, std::string& reason) {
  const char* old = std::getenv("ANYCHIP_VULKAN_TIMING");
  const std::string saved = old ? old : "";
  if (timing[0]) setenv("ANYCHIP_VULKAN_TIMING", timing, 1); else unsetenv("ANYCHIP_VULKAN_TIMING");
  std::unique_ptr<backend::Device> d;
  try {
    d = backend::create_device("vulkan");
  } catch (const Error& e) {
    reason = e.what();
  }
  if (old) setenv("ANYCHIP_VULKAN_TIMING", saved.c_str(), 1); else unsetenv("ANYCHIP_VULKAN_TIMING");
  return d;
}

const vulkan::TimingStats::Label* find_label(const vulkan::TimingStats& s, const std::string& name) {
  for (const auto& l : s.labels) {
    if (l.name == name) return &l;
  }
  return nullptr;
}

class VulkanTiming : public ::testing::Test, public DeviceTensors {
 protected:
  void TearDown() override {
    buffers.clear();
    owned.reset();
  }
  std::unique_ptr<backend::Device> owned;
};

TEST_F(VulkanTiming, CountsAndTimesEachLabel) {
  std::string reason;
  owned = device_with_timing("1", reason);
  if (!owned) GTEST_SKIP() << "skipped: no Vulkan device (" << reason << ")";
  dev = owned.get();
  if (!vulkan::timing_stats(*dev).enabled) GTEST_SKIP() << "skipped: the Vulkan compute queue has no timestamps";

  const int64_t cols = 64;
  const backend::Tensor a = upload_f32(random_floats(2 * cols, 1), cols), b = upload_f32(random_floats(2 * cols, 2), cols);
  const backend::Tensor w = upload_f32(random_floats(8 * cols, 3), cols), y = upload_f32(std::vector<float>(8, 0.0f), 8);
  const backend::Tensor x = upload_f32(random_floats(cols, 4), cols);
  dev->synchronize();
  const vulkan::TimingStats before = vulkan::timing_stats(*dev);
  for (int i = 0; i < 3; ++i) dev->add(a, b);
  dev->swiglu(a, b, a);
  dev->matmul(w, x, y);
  dev->synchronize();  // one submission for all five

  const vulkan::TimingStats s = vulkan::timing_stats(*dev);
  EXPECT_EQ(s.flushes, before.flushes + 1);
  const auto* add = find_label(s, "add");
  const auto* swiglu = find_label(s, "swiglu");
  const auto* matvec = find_label(s, "matvec f32 8x64 t1");
  ASSERT_TRUE(add && swiglu && matvec) << vulkan::format_timing(s);
  EXPECT_EQ(add->calls, 3u);
  EXPECT_EQ(swiglu->calls, 1u);
  EXPECT_EQ(matvec->calls, 1u);
  double labelled = 0;
  for (const auto& l : s.labels) labelled += l.gpu_ns;
  // Every interval between consecutive timestamps belongs to one label.
  EXPECT_NEAR(labelled, s.gpu_busy_ns, 1e-6 * s.gpu_busy_ns + 1.0);
  EXPECT_GT(s.record_host_ns, 0.0);
  EXPECT_GT(s.submit_wait_host_ns, 0.0);
  const std::string table = vulkan::format_timing(s);
  EXPECT_NE(table.find("swiglu"), std::string::npos) << table;
  std::printf("%s", table.c_str());
}

TEST_F(VulkanTiming, OffUnlessAsked) {
  std::string reason;
  owned = device_with_timing("", reason);
  if (!owned) GTEST_SKIP() << "skipped: no Vulkan device (" << reason << ")";
  dev = owned.get();
  const backend::Tensor a = upload_f32(random_floats(64, 1), 64);
  dev->add(a, a);
  dev->synchronize();
  const vulkan::TimingStats s = vulkan::timing_stats(*dev);
  EXPECT_FALSE(s.enabled);
  EXPECT_EQ(s.flushes, 0u);
  EXPECT_TRUE(s.labels.empty());
}

// Not a pass/fail check: the host cost of recording a small dispatch (pipeline lookup, descriptor
// set, binds, push constants, barrier), printed for comparing recording schemes, and what
// timing adds to it.
TEST_F(VulkanTiming, HostCostPerDispatch) {
  for (const char* timing : {"", "1"}) {
    std::string reason;
    owned = device_with_timing(timing, reason);
    if (!owned) GTEST_SKIP() << "skipped: no Vulkan device (" << reason << ")";
    dev = owned.get();
    const backend::Tensor a = upload_f32(random_floats(64, 1), 64), b = upload_f32(random_floats(64, 2), 64);
    constexpr int kDispatches = 10000;
    for (int round = 0; round < 2; ++round) {  // the first grows the descriptor and query pools
      const auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < kDispatches; ++i) dev->add(a, b);
      const auto t1 = std::chrono::steady_clock::now();
      dev->synchronize();
      const auto t2 = std::chrono::steady_clock::now();
      std::printf("[ host cost ] timing %s, round %d: record %.2f us per dispatch, submit+wait %.2f us per dispatch\n",
                  timing[0] ? "on" : "off", round, std::chrono::duration<double, std::micro>(t1 - t0).count() / kDispatches,
                  std::chrono::duration<double, std::micro>(t2 - t1).count() / kDispatches);
    }
    buffers.clear();
    owned.reset();
  }
}
#endif

}  // namespace
}  // namespace anychip::testing
