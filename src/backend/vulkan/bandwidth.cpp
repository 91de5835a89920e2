// measure_read_bandwidth_gbs: the device-memory roofline that `anychip bench` judges generation by.
#include <algorithm>
#include <chrono>
#include <cstdint>

#include "backend/vulkan/vk_check.h"
#include "backend/vulkan/vulkan_device.h"

namespace anychip::vulkan {
namespace {

constexpr uint32_t kProbeWorkgroup = 256;
constexpr int kRuns = 6;  // the first one warms up (page mapping, clocks) and is not counted

// A two-entry timestamp query pool, destroyed on every path out.
struct QueryPool {
  explicit QueryPool(VkDevice d) : device(d) {
    VkQueryPoolCreateInfo ci{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
    ci.queryType = VK_QUERY_TYPE_TIMESTAMP;
    ci.queryCount = 2;
    check(vkCreateQueryPool(device, &ci, nullptr, &pool), "vkCreateQueryPool");
  }
  ~QueryPool() { vkDestroyQueryPool(device, pool, nullptr); }
  VkDevice device;
  VkQueryPool pool = VK_NULL_HANDLE;
};

}  // namespace

// Streams a device-local buffer far larger than any GPU cache with wide loads and keeps the best
// of several runs. GPU timestamps time the dispatch alone where the queue has them; otherwise
// the host clock times a submission of several dispatches, so submit latency weighs little.
double VulkanDevice::measure_read_bandwidth_gbs() {
  stream_.flush();
  // 1 GiB on a GPU; lavapipe and other CPU devices read host memory with few threads, where a
  // quarter of that measures as well and is gentler on a shared machine.
  uint64_t bytes = ctx_.type() == VK_PHYSICAL_DEVICE_TYPE_CPU ? uint64_t{256} << 20 : uint64_t{1} << 30;
  bytes = std::min<uint64_t>({bytes, info().memory_bytes / 4, ctx_.limits().maxStorageBufferRange}) / 16 * 16;
  if (bytes < (uint64_t{16} << 20)) return 0.0;  // too small to measure honestly
  std::unique_ptr<GpuBuffer> data, sink;
  try {
    data = std::make_unique<GpuBuffer>(ctx_, bytes, Placement::Device);
    sink = std::make_unique<GpuBuffer>(ctx_, 16, Placement::Device);
  } catch (const Error&) {
    return 0.0;  // not enough free device memory right now: unknown, as the interface allows
  }
  stream_.fill_zero(*data);  // touch every page before timing
  stream_.flush();
  const Bound bd = stream_.bind(Range{data.get(), 0, bytes}), bs = stream_.bind(Range{sink.get(), 0, 16});
  const struct {
    uint32_t n;
  } push = {static_cast<uint32_t>(bytes / 16)};
  const uint64_t groups = std::clamp<uint64_t>(bytes / 16 / (kProbeWorkgroup * 16), 1, 4096);

  std::unique_ptr<QueryPool> queries;
  if (ctx_.timestamp_bits() > 0 && ctx_.limits().timestampPeriod > 0) queries = std::make_unique<QueryPool>(ctx_.device());
  const int per_submit = queries ? 1 : 4;
  double best = 0.0;
  for (int r = 0; r < kRuns; ++r) {
    if (queries) {
      stream_.reset_queries(queries->pool, 0, 2);
      stream_.timestamp(queries->pool, 0);
    }
    const auto start = std::chrono::steady_clock::now();
    for (int k = 0; k < per_submit; ++k) run("read_probe", {kProbeWorkgroup}, {bd, bs}, push, groups);
    if (queries) stream_.timestamp(queries->pool, 1);
    stream_.flush();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (queries) {
      uint64_t t[2] = {};
      check(vkGetQueryPoolResults(ctx_.device(), queries->pool, 0, 2, sizeof t, t, sizeof(uint64_t),
                                  VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
            "vkGetQueryPoolResults");
      seconds = ctx_.timestamp_ns(t[0], t[1]) * 1e-9;
    }
    if (r > 0 && seconds > 0) best = std::max(best, static_cast<double>(bytes) * per_submit / seconds / 1e9);
  }
  return best;
}

}  // namespace anychip::vulkan
