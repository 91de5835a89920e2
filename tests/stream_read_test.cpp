// The bandwidth probe's readers: every variant this CPU runs must read every word of the range
// (the same XOR as the scalar loop), whatever the length and alignment.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "backend/cpu/kernels/matmul_kernels.h"
#include "backend/cpu/stream_read.h"

namespace anychip::cpu {
namespace {

uint64_t xor_of_words(const uint8_t* p, size_t bytes) {
  uint64_t x = 0;
  for (size_t i = 0; i + 8 <= bytes; i += 8) {
    uint64_t w = 0;
    for (int k = 0; k < 8; ++k) w |= static_cast<uint64_t>(p[i + k]) << (8 * k);
    x ^= w;
  }
  return x;
}

std::vector<StreamReadFn> readers_for_this_cpu() {
  std::vector<StreamReadFn> out = {stream_read_scalar};
#if defined(__x86_64__) || defined(_M_X64)
  const Isa isa = detect_isa();
  if (isa != Isa::Scalar) out.push_back(stream_read_avx2);
  if (isa == Isa::Avx512 || isa == Isa::Avx512Vnni) out.push_back(stream_read_avx512);
#endif
  return out;
}

TEST(StreamRead, EveryVariantReadsEveryWord) {
  std::mt19937_64 rng(3);
  std::vector<uint8_t> data(5000 + 64);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  for (StreamReadFn read : readers_for_this_cpu()) {
    for (size_t offset : {0, 1, 8, 24}) {
      for (size_t bytes : {0, 8, 248, 256, 264, 1000, 4096, 4104}) {
        const uint8_t* p = data.data() + offset;
        EXPECT_EQ(read(p, bytes), xor_of_words(p, bytes)) << "offset " << offset << ", " << bytes << " bytes";
      }
    }
  }
}

TEST(StreamRead, ChosenReaderIsOneOfTheVariants) {
  const auto readers = readers_for_this_cpu();
  EXPECT_EQ(readers.back(), stream_read_for_this_cpu());
}

}  // namespace
}  // namespace anychip::cpu
