#include "backend/vulkan/vulkan_device.h"

#include <cstdio>
#include <string>

#include "backend/vulkan/vulkan_backend.h"
#include "util/error.h"

namespace anychip::vulkan {

VulkanDevice::VulkanDevice(int index) : ctx_(index), pipelines_(ctx_), stream_(ctx_, pipelines_) {}

VulkanDevice::~VulkanDevice() {
  // Recorded but unsubmitted work must not outlive the pipelines and buffers it uses.
  try {
    stream_.flush();
  } catch (const Error&) {
    // A lost device at teardown leaves nothing to wait for.
  }
  // The device lives as long as the command using it (bench, run, serve), so its end is where
  // the whole run's GPU time per op is known.
  const TimingStats& t = stream_.timing_stats();
  if (t.enabled && t.flushes > 0) std::fputs(format_timing(t).c_str(), stderr);
}

bool VulkanDevice::supports(backend::Op op, GgmlType type) const {
  const bool half_or_f32 = type == GgmlType::F32 || type == GgmlType::F16 || type == GgmlType::BF16;
  switch (op) {
    case backend::Op::MatMul:
    case backend::Op::GetRows:
      switch (type) {
        case GgmlType::F32: case GgmlType::F16: case GgmlType::BF16: case GgmlType::Q4_0: case GgmlType::Q4_1:
        case GgmlType::Q5_0: case GgmlType::Q5_1: case GgmlType::Q8_0: case GgmlType::Q2_K: case GgmlType::Q3_K:
        case GgmlType::Q4_K: case GgmlType::Q5_K: case GgmlType::Q6_K:
          return true;
        default:
          return false;
      }
    case backend::Op::RmsNorm:
    case backend::Op::AddBias:
      return half_or_f32;
    case backend::Op::Attention:
      return type == GgmlType::F16 || type == GgmlType::F32;
    default:
      return type == GgmlType::F32;
  }
}

std::unique_ptr<backend::Buffer> VulkanDevice::alloc(size_t bytes) {
  return std::make_unique<VulkanBuffer>(ctx_, stream_, bytes);
}

std::unique_ptr<backend::Buffer> VulkanDevice::import_host(const void* data, size_t bytes) {
  auto buffer = std::make_unique<VulkanBuffer>(ctx_, stream_, bytes);
  buffer->write(0, data, bytes);
  return buffer;
}

Bound VulkanDevice::bind(const backend::Tensor& t) const {
  const auto* b = dynamic_cast<const VulkanBuffer*>(t.buffer);
  if (!b) throw Error("vulkan: a tensor's buffer does not belong to the vulkan device");
  const size_t bytes = t.rows > 0 ? static_cast<size_t>(t.rows - 1) * t.row_stride + row_bytes(t.type, t.cols) : 0;
  return stream_.bind(Range{&b->gpu(), t.offset, bytes});
}

Bound VulkanDevice::upload(const void* data, size_t bytes) { return stream_.bind(stream_.upload(data, bytes)); }

std::unique_ptr<backend::Device> create_device(int index) { return std::make_unique<VulkanDevice>(index); }

std::string features_in_use(const backend::Device& device) {
  const auto* d = dynamic_cast<const VulkanDevice*>(&device);
  return d ? d->features().describe() : "";
}

TimingStats timing_stats(const backend::Device& device) {
  const auto* d = dynamic_cast<const VulkanDevice*>(&device);
  return d ? d->timing_stats() : TimingStats{};
}

}  // namespace anychip::vulkan
