#include "backend/vulkan/buffer.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "util/error.h"

namespace anychip::vulkan {
namespace {
constexpr size_t kStagingBytes = 16u << 20;  // device-local memory moves through this in pieces
}

VulkanBuffer::VulkanBuffer(const Context& ctx, Stream& stream, size_t bytes)
    : ctx_(ctx), stream_(stream), mem_(std::make_unique<GpuBuffer>(ctx, bytes, Placement::Device)) {
  // New buffers read as zeros, as on the CPU backend.
  if (mem_->mapped()) {
    std::memset(mem_->mapped(), 0, bytes);
  } else {
    stream_.fill_zero(*mem_);
  }
}

VulkanBuffer::~VulkanBuffer() {
  // Commands recorded but not yet run may still reference this memory.
  try {
    stream_.flush();
  } catch (const Error&) {
    // The device is lost; nothing will run.
  }
}

void VulkanBuffer::check_range(size_t offset, size_t bytes, const char* what) const {
  if (offset > mem_->size() || bytes > mem_->size() - offset) {
    throw Error(std::string("vulkan: buffer ") + what + " of " + std::to_string(bytes) + " bytes at offset " +
                std::to_string(offset) + " is outside the buffer (" + std::to_string(mem_->size()) + " bytes)");
  }
}

void VulkanBuffer::write(size_t offset, const void* src, size_t bytes) {
  check_range(offset, bytes, "write");
  stream_.flush();  // earlier ops may still read the old contents
  if (mem_->mapped()) {
    std::memcpy(mem_->mapped() + offset, src, bytes);
    return;
  }
  GpuBuffer& staging = stream_.staging(std::min(bytes, kStagingBytes));
  for (size_t done = 0; done < bytes; done += staging.size()) {
    const size_t n = std::min(staging.size(), bytes - done);
    std::memcpy(staging.mapped(), static_cast<const uint8_t*>(src) + done, n);
    stream_.copy(staging, 0, *mem_, offset + done, n);
    stream_.flush();
  }
}

void VulkanBuffer::read(size_t offset, void* dst, size_t bytes) const {
  check_range(offset, bytes, "read");
  stream_.flush();  // results of recorded ops
  if (mem_->mapped()) {
    std::memcpy(dst, mem_->mapped() + offset, bytes);
    return;
  }
  GpuBuffer& staging = stream_.staging(std::min(bytes, kStagingBytes));
  for (size_t done = 0; done < bytes; done += staging.size()) {
    const size_t n = std::min(staging.size(), bytes - done);
    stream_.copy(*mem_, offset + done, staging, 0, n);
    stream_.flush();
    std::memcpy(static_cast<uint8_t*>(dst) + done, staging.mapped(), n);
  }
}

}  // namespace anychip::vulkan
