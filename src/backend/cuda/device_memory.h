#pragma once
// Owning handles for the two kinds of memory the backend allocates: device memory (cudaMalloc,
// never managed memory) and page-locked host memory for staging uploads.
#include <cstddef>

namespace anychip::cuda {

class DeviceMemory {
 public:
  DeviceMemory() = default;
  // Throws anychip::Error naming the size and the free memory when the allocation fails.
  explicit DeviceMemory(size_t bytes);
  ~DeviceMemory();
  DeviceMemory(DeviceMemory&& other) noexcept;
  DeviceMemory& operator=(DeviceMemory&& other) noexcept;
  DeviceMemory(const DeviceMemory&) = delete;
  DeviceMemory& operator=(const DeviceMemory&) = delete;

  void* get() const { return ptr_; }
  size_t size() const { return size_; }

 private:
  void release() noexcept;
  void* ptr_ = nullptr;
  size_t size_ = 0;
};

class PinnedMemory {
 public:
  PinnedMemory() = default;
  explicit PinnedMemory(size_t bytes);
  ~PinnedMemory();
  PinnedMemory(PinnedMemory&& other) noexcept;
  PinnedMemory& operator=(PinnedMemory&& other) noexcept;
  PinnedMemory(const PinnedMemory&) = delete;
  PinnedMemory& operator=(const PinnedMemory&) = delete;

  void* get() const { return ptr_; }
  size_t size() const { return size_; }

 private:
  void release() noexcept;
  void* ptr_ = nullptr;
  size_t size_ = 0;
};

}  // namespace anychip::cuda
