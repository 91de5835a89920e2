#include "backend/cpu/stream_read.h"

#include "backend/cpu/kernels/matmul_kernels.h"

namespace anychip::cpu {

uint64_t stream_read_scalar(const uint8_t* p, size_t bytes) {
  // Independent accumulators let the loads issue back to back.
  const auto* w = reinterpret_cast<const uint64_t*>(p);
  const size_t n = bytes / sizeof(uint64_t);
  uint64_t a = 0, b = 0, c = 0, d = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a ^= w[i];
    b ^= w[i + 1];
    c ^= w[i + 2];
    d ^= w[i + 3];
  }
  for (; i < n; ++i) a ^= w[i];
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
