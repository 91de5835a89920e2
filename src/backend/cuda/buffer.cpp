#include "backend/cuda/buffer.h"

#include <string>

#include "backend/cuda/cuda_check.h"
#include "util/error.h"

namespace anychip::cuda {

CudaBuffer::CudaBuffer(Stream& stream, size_t bytes) : stream_(stream) {
  stream_.activate();
  mem_ = DeviceMemory(bytes);
  if (bytes == 0) return;
  // On the backend's stream, which (being non-blocking) does not wait for the legacy default stream.
  check(cudaMemsetAsync(mem_.get(), 0, bytes, stream_.get()), "cudaMemsetAsync");
  check(cudaStreamSynchronize(stream_.get()), "zeroing a new buffer");
}

CudaBuffer::~CudaBuffer() {
  // Ops recorded but not yet run may still use this memory.
  try {
    stream_.flush();
  } catch (const Error&) {
    // A failed device has nothing left to run.
  }
}

void CudaBuffer::check_range(size_t offset, size_t bytes, const char* what) const {
  if (offset > size() || bytes > size() - offset) {
    throw Error(std::string("cuda: buffer ") + what + " of " + std::to_string(bytes) + " bytes at offset " +
                std::to_string(offset) + " is outside the buffer (" + std::to_string(size()) + " bytes)");
  }
}

void CudaBuffer::write(size_t offset, const void* src, size_t bytes) {
  check_range(offset, bytes, "write");
  if (bytes == 0) return;
  stream_.flush();  // earlier ops may still read the old contents
  stream_.activate();
  check(cudaMemcpyAsync(data() + offset, src, bytes, cudaMemcpyHostToDevice, stream_.get()), "copying to the device");
  check(cudaStreamSynchronize(stream_.get()), "copying to the device");
}

void CudaBuffer::read(size_t offset, void* dst, size_t bytes) const {
  check_range(offset, bytes, "read");
  if (bytes == 0) return;
  stream_.flush();  // results of recorded ops
  stream_.activate();
  check(cudaMemcpyAsync(dst, data() + offset, bytes, cudaMemcpyDeviceToHost, stream_.get()), "copying from the device");
  check(cudaStreamSynchronize(stream_.get()), "copying from the device");
}

}  // namespace anychip::cuda
