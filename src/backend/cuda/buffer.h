#pragma once
// backend::Buffer in device memory. host_ptr() is null: the host reaches the memory only
// through read()/write(), which first flush the stream so recorded ops see (and leave) the
// right contents.
#include <cstdint>

#include "backend/cuda/device_memory.h"
#include "backend/cuda/stream.h"
#include "backend/device.h"

namespace anychip::cuda {

class CudaBuffer final : public backend::Buffer {
 public:
  CudaBuffer(Stream& stream, size_t bytes);  // zero-filled, as on the CPU backend
  ~CudaBuffer() override;

  size_t size() const override { return mem_.size(); }
  void* host_ptr() override { return nullptr; }
  void write(size_t offset, const void* src, size_t bytes) override;
  void read(size_t offset, void* dst, size_t bytes) const override;

  uint8_t* data() const { return static_cast<uint8_t*>(mem_.get()); }

 private:
  void check_range(size_t offset, size_t bytes, const char* what) const;

  Stream& stream_;
  DeviceMemory mem_;
};

}  // namespace anychip::cuda
