#pragma once
// Reads a range of memory as fast as the core can issue loads and returns the XOR of its 64-bit
// words (a trailing partial word is ignored), so the reads cannot be dropped. One variant per instruction set: the bandwidth
// probe must use the widest loads the CPU has, as the matmul kernels do, or it reports less
// than the kernels can reach (a 64-bit loop read 65-70 GB/s on two Zen 5 cores that stream
// 80-85 GB/s with 512-bit loads).
#include <cstddef>
#include <cstdint>

namespace anychip::cpu {

using StreamReadFn = uint64_t (*)(const uint8_t* p, size_t bytes);

// The fastest reader for this CPU (respecting ANYCHIP_ISA).
StreamReadFn stream_read_for_this_cpu();

uint64_t stream_read_scalar(const uint8_t* p, size_t bytes);
#if defined(__x86_64__) || defined(_M_X64)
uint64_t stream_read_avx2(const uint8_t* p, size_t bytes);
uint64_t stream_read_avx512(const uint8_t* p, size_t bytes);
#endif

}  // namespace anychip::cpu
