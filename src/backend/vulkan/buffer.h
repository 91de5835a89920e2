#pragma once
// backend::Buffer on a Vulkan device. host_ptr() is null even on unified memory: the host must
// not touch memory that recorded-but-unsubmitted commands will use, so every host access goes
// through read()/write(), which first flush the stream.
#include <memory>

#include "backend/device.h"
#include "backend/vulkan/memory.h"
#include "backend/vulkan/stream.h"

namespace anychip::vulkan {

class VulkanBuffer final : public backend::Buffer {
 public:
  VulkanBuffer(const Context& ctx, Stream& stream, size_t bytes);
  ~VulkanBuffer() override;

  size_t size() const override { return mem_->size(); }
  void* host_ptr() override { return nullptr; }
  void write(size_t offset, const void* src, size_t bytes) override;
  void read(size_t offset, void* dst, size_t bytes) const override;

  const GpuBuffer& gpu() const { return *mem_; }

 private:
  void check_range(size_t offset, size_t bytes, const char* what) const;

  const Context& ctx_;
  Stream& stream_;
  std::unique_ptr<GpuBuffer> mem_;
};

}  // namespace anychip::vulkan
