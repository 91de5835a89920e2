#pragma once
// backend::Device on Vulkan. Ops are recorded into the stream with pipelines chosen per weight
// type and shape class, and run when the host next needs a result (synchronize, Buffer::read).
// Host-side arguments (ids, positions, block tables) are copied into upload memory at record
// time, so callers may free them as soon as the call returns.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "backend/device.h"
#include "backend/vulkan/buffer.h"
#include "backend/vulkan/context.h"
#include "backend/vulkan/pipelines.h"
#include "backend/vulkan/stream.h"
#include "util/error.h"

namespace anychip::vulkan {

class VulkanDevice final : public backend::Device {
 public:
  explicit VulkanDevice(int index);
  ~VulkanDevice() override;

  const backend::DeviceInfo& info() const override { return ctx_.info(); }
  bool supports(backend::Op op, GgmlType type) const override;
  std::unique_ptr<backend::Buffer> alloc(size_t bytes) override;
  std::unique_ptr<backend::Buffer> import_host(const void* data, size_t bytes) override;

  void get_rows(const backend::Tensor& table, std::span<const int32_t> ids, const backend::Tensor& out) override;
  void matmul(const backend::Tensor& w, const backend::Tensor& x, const backend::Tensor& y) override;
  void rms_norm(const backend::Tensor& x, const backend::Tensor& weight, float eps, const backend::Tensor& y) override;
  void rope(const backend::Tensor& x, std::span<const int32_t> positions, const backend::RopeParams& p) override;
  void attention(const backend::Tensor& q, const backend::Tensor& k_cache, const backend::Tensor& v_cache,
                 std::span<const int32_t> positions, const backend::KvPages& pages,
                 const backend::AttentionParams& p, const backend::Tensor& out) override;
  void store_rows(const backend::Tensor& src, std::span<const int32_t> cache_rows, const backend::Tensor& cache) override;
  void swiglu(const backend::Tensor& gate, const backend::Tensor& up, const backend::Tensor& out) override;
  void add(const backend::Tensor& x, const backend::Tensor& y) override;
  void add_bias(const backend::Tensor& bias, const backend::Tensor& y) override;
  void synchronize() override { stream_.flush(); }
  double measure_read_bandwidth_gbs() override;  // bandwidth.cpp

  const Features& features() const { return ctx_.features(); }
  const TimingStats& timing_stats() const { return stream_.timing_stats(); }

 private:
  // The byte range a tensor covers, bound for a shader; throws for a foreign buffer.
  Bound bind(const backend::Tensor& t) const;
  Bound upload(const void* data, size_t bytes);
  // Records one dispatch of `groups` workgroups (split over x and y beyond 65535). `label` names
  // it in the GPU timing table (ANYCHIP_VULKAN_TIMING); the shader name when null.
  template <class Push>
  void run(const char* shader, std::vector<uint32_t> spec, std::initializer_list<Bound> bindings, const Push& push,
           uint64_t groups, uint32_t groups_z = 1, const char* label = nullptr);

  // Device memory for attention's per-chunk partials, grown on demand (ops_attention.cpp).
  Range attention_scratch(size_t bytes);

  Context ctx_;
  Pipelines pipelines_;
  Stream stream_;
  // RoPE angles of the last positions seen (q and k of every layer share them).
  struct RopeCache {
    std::vector<int32_t> positions;
    std::vector<float> params;
    uint64_t epoch = ~0ull;
    Range range;
  } rope_cache_;
  std::unique_ptr<GpuBuffer> scratch_;
  std::vector<std::unique_ptr<GpuBuffer>> retired_scratch_;
  uint64_t retired_epoch_ = 0;
};

template <class Push>
void VulkanDevice::run(const char* shader, std::vector<uint32_t> spec, std::initializer_list<Bound> bindings,
                       const Push& push, uint64_t groups, uint32_t groups_z, const char* label) {
  static_assert(sizeof(Push) <= kPushBytes, "push constants too large");
  if (groups == 0 || groups_z == 0) return;
  // 65535 is the smallest maxComputeWorkGroupCount a device may have per dimension.
  const uint64_t x = std::min<uint64_t>(groups, 65535);
  const uint64_t y = (groups + x - 1) / x;
  if (y > 65535) throw Error(std::string("vulkan: ") + shader + ": too many workgroups (" + std::to_string(groups) + ")");
  stream_.dispatch(label ? label : shader, pipelines_.get(shader, spec),
                   std::span<const Bound>(bindings.begin(), bindings.size()), &push, sizeof push,
                   static_cast<uint32_t>(x), static_cast<uint32_t>(y), groups_z);
}

}  // namespace anychip::vulkan
