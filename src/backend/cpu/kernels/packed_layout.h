#pragma once
// Load-time packed weight layouts shared by the ISA kernel files that read them
// (block32_avx512.cpp, kquant_kernels_avx512.cpp), described as data: per group of 16 rows and
// block, each run of dwords of a row's block goes to lane r (= row r) of as many consecutive
// 64-byte vectors, and each f16 to entry r of a 16-entry array. Plain scalar copies, but in an
// anonymous namespace like kquant_x86_scales.h, so each ISA file gets its own copy and nothing
// compiled with its flags can reach generic code.
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace anychip::cpu {
namespace {

struct DwordRun {
  int src, count, dst;  // count dwords at byte src of a row's block -> count vectors at byte dst (0: none)
};
struct HalfAt {
  int src, dst;  // an f16 at byte src of a row's block -> 16 f16 at byte dst (-1: none)
};
struct PackedLayout {
  int block_bytes;    // one row's block
  int block_elems;    // elements per block
  uint8_t run0_xor;   // XORed into the bytes of runs[0] (0x80: Q8_0 stored as w + 128 for vpdpbusd)
  DwordRun runs[3];
  HalfAt halves[2];
  constexpr size_t group_block() const { return 16 * static_cast<size_t>(block_bytes); }
};

inline void copy_dword(uint8_t* dst, const uint8_t* src, uint8_t x) {
  for (int k = 0; k < 4; ++k) dst[k] = static_cast<uint8_t>(src[k] ^ x);
}

// Copies `rows` rows of w (n elements each) into dst, the last group padded with zero rows.
inline void pack_rows(const PackedLayout& L, const uint8_t* w, size_t row_bytes, int64_t n, int64_t rows, uint8_t* dst) {
  const int64_t nb = n / L.block_elems;
  for (int64_t r0 = 0; r0 < rows; r0 += 16) {
    for (int64_t b = 0; b < nb; ++b, dst += L.group_block()) {
      std::memset(dst, 0, L.group_block());
      for (int64_t r = 0; r < 16 && r0 + r < rows; ++r) {
        const uint8_t* blk = w + static_cast<size_t>(r0 + r) * row_bytes + static_cast<size_t>(b) * L.block_bytes;
        for (int i = 0; i < 3; ++i) {
          const DwordRun& run = L.runs[i];
          for (int k = 0; k < run.count; ++k) {
            copy_dword(dst + run.dst + 64 * k + 4 * r, blk + run.src + 4 * k, i == 0 ? L.run0_xor : 0);
          }
        }
        for (const HalfAt& h : L.halves) {
          if (h.dst >= 0) std::memcpy(dst + h.dst + 2 * r, blk + h.src, 2);
        }
      }
    }
  }
}

// Row r of the packed copy, back in the file's layout.
inline void unpack_packed_row(const PackedLayout& L, const uint8_t* packed, size_t row_bytes, int64_t n, int64_t r,
                              uint8_t* dst) {
  const int64_t nb = n / L.block_elems, i = r % 16;
  const uint8_t* src = packed + static_cast<size_t>(r - i) * row_bytes;
  for (int64_t b = 0; b < nb; ++b, src += L.group_block(), dst += L.block_bytes) {
    for (int j = 0; j < 3; ++j) {
      const DwordRun& run = L.runs[j];
      for (int k = 0; k < run.count; ++k) {
        copy_dword(dst + run.src + 4 * k, src + run.dst + 64 * k + 4 * i, j == 0 ? L.run0_xor : 0);
      }
    }
    for (const HalfAt& h : L.halves) {
      if (h.dst >= 0) std::memcpy(dst + h.src, src + h.dst + 2 * i, 2);
    }
  }
}

}  // namespace
}  // namespace anychip::cpu
