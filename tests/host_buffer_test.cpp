// HostBuffer::allocate: zeroed memory, 64-byte aligned, and buffers of 2 MiB and more aligned to
// 2 MiB so they can sit on huge pages (streamed weights and the bandwidth probe's buffer).
#include <gtest/gtest.h>

#include <cstdint>

#include "backend/cpu/cpu_buffer.h"

namespace anychip::cpu {
namespace {

TEST(HostBuffer, AllocatesZeroedAlignedMemory) {
  for (size_t bytes : {size_t{0}, size_t{1}, size_t{100}, size_t{4096}, (size_t{2} << 20) - 1, size_t{2} << 20,
                       (size_t{5} << 20) + 3}) {
    auto b = HostBuffer::allocate(bytes);
    ASSERT_NE(b->host_ptr(), nullptr);
    EXPECT_EQ(b->size(), bytes);
    const auto addr = reinterpret_cast<uintptr_t>(b->host_ptr());
    EXPECT_EQ(addr % 64, 0u) << bytes;
    if (bytes >= (size_t{2} << 20)) {
      EXPECT_EQ(addr % (size_t{2} << 20), 0u) << bytes;
    }
    const auto* p = static_cast<const uint8_t*>(b->host_ptr());
    for (size_t i = 0; i < bytes; i += 997) ASSERT_EQ(p[i], 0) << bytes << " at " << i;
    if (bytes > 0) {
      EXPECT_EQ(p[bytes - 1], 0);
      uint8_t v = 7;
      b->write(bytes - 1, &v, 1);
      uint8_t back = 0;
      b->read(bytes - 1, &back, 1);
      EXPECT_EQ(back, 7);
    }
  }
}

}  // namespace
}  // namespace anychip::cpu
