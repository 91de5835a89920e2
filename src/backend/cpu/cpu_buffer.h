#pragma once
#include <cstdlib>
#include <cstring>

#include "backend/device.h"

namespace anychip::cpu {

// Uninitialized memory, 64-byte aligned; from 2 MiB up, on 2 MiB pages where the kernel grants
// them (see cpu_buffer.cpp). Throws when out of memory; release with std::free.
uint8_t* allocate_stream_memory(size_t bytes);

// Host memory: either owned (64-byte aligned for SIMD) or borrowed from a mapped file.
class HostBuffer final : public backend::Buffer {
 public:
  static std::unique_ptr<HostBuffer> allocate(size_t bytes);
  static std::unique_ptr<HostBuffer> borrow(const void* data, size_t bytes);
  ~HostBuffer() override;

  size_t size() const override { return size_; }
  void* host_ptr() override { return data_; }
  void write(size_t offset, const void* src, size_t bytes) override { std::memcpy(data_ + offset, src, bytes); }
  void read(size_t offset, void* dst, size_t bytes) const override { std::memcpy(dst, data_ + offset, bytes); }

 private:
  HostBuffer(uint8_t* data, size_t size, bool owned) : data_(data), size_(size), owned_(owned) {}
  uint8_t* data_;
  size_t size_;
  bool owned_;
};

}  // namespace anychip::cpu
