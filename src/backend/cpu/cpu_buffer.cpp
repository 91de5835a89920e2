#include "backend/cpu/cpu_buffer.h"

#include <new>

#include <sys/mman.h>

#include "util/error.h"

namespace anychip::cpu {

// Buffers this large (packed weights, KV caches, the bandwidth probe's) are streamed end to end:
// on 2 MiB pages a stream crosses a page, and may miss the TLB, 512 times less often. The kernel
// only backs madvise'd memory with huge pages on most distributions' default setting.
constexpr size_t kHugePage = size_t{2} << 20;

namespace {
size_t rounded_size(size_t bytes) { return bytes == 0 ? 64 : (bytes + 63) / 64 * 64; }
}  // namespace

uint8_t* allocate_stream_memory(size_t bytes) {
  static const bool huge_pages = std::getenv("ANYCHIP_NO_HUGEPAGES") == nullptr;
  const bool huge = huge_pages && bytes >= kHugePage;
  const size_t rounded = rounded_size(bytes);
  void* p = nullptr;
  if (posix_memalign(&p, huge ? kHugePage : 64, rounded) != 0 || !p) {
    throw Error("out of host memory allocating " + std::to_string(bytes) + " bytes");
  }
#ifdef MADV_HUGEPAGE
  // Whole huge pages only: a partial last one would make up to 2 MiB resident that the buffer
  // never uses. The advice is a hint; without huge pages this is plain memory.
  if (huge) madvise(p, rounded / kHugePage * kHugePage, MADV_HUGEPAGE);
#endif
  return static_cast<uint8_t*>(p);
}

std::unique_ptr<HostBuffer> HostBuffer::allocate(size_t bytes) {
  uint8_t* p = allocate_stream_memory(bytes);
  std::memset(p, 0, rounded_size(bytes));
  return std::unique_ptr<HostBuffer>(new HostBuffer(p, bytes, true));
}

std::unique_ptr<HostBuffer> HostBuffer::borrow(const void* data, size_t bytes) {
  return std::unique_ptr<HostBuffer>(new HostBuffer(static_cast<uint8_t*>(const_cast<void*>(data)), bytes, false));
}

HostBuffer::~HostBuffer() {
  if (owned_) std::free(data_);
}

}  // namespace anychip::cpu
