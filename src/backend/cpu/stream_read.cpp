#include "backend/cpu/stream_read.h"

#include <cstring>

#include "backend/cpu/kernels/matmul_kernels.h"

namespace anychip::cpu {

static uint64_t load_word(const uint8_t* p, size_t i) {
  uint64_t w;
  std::memcpy(&w, p + i * sizeof w, sizeof w);
  return w;
}

uint64_t stream_read_scalar(const uint8_t* p, size_t bytes) {
  // Independent accumulators let the loads issue back to back; memcpy loads any alignment.
  const size_t n = bytes / sizeof(uint64_t);
  uint64_t a = 0, b = 0, c = 0, d = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a ^= load_word(p, i);
    b ^= load_word(p, i + 1);
    c ^= load_word(p, i + 2);
    d ^= load_word(p, i + 3);
  }
  for (; i < n; ++i) a ^= load_word(p, i);
  return a ^ b ^ c ^ d;
}

StreamReadFn stream_read_for_this_cpu() {
#if defined(__x86_64__) || defined(_M_X64)
  const Isa isa = detect_isa();
  if (isa == Isa::Avx512 || isa == Isa::Avx512Vnni) return stream_read_avx512;
  if (isa == Isa::Avx2) return stream_read_avx2;
#endif
  return stream_read_scalar;
}

}  // namespace anychip::cpu
