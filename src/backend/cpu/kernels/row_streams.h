#pragma once
// How the kernels that read several weight rows side by side keep those reads streaming: the
// prefetch distance for rows as stored, and the four-row interleaved layout some weights are
// packed into at load (kquant_kernels_avx512.cpp's Q6_K, float_avx512.cpp's F32/F16/BF16).
// Plain scalar code, but in an anonymous namespace like packed_layout.h, so each ISA file gets
// its own copy and nothing compiled with its flags can reach generic code.
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace anychip::cpu {
namespace {

// How far ahead of its reads a kernel prefetches.
constexpr size_t kPrefetchDistance = 8192;

// R rows read side by side are R streams a row apart, which the hardware prefetchers follow
// poorly, and "kPrefetchDistance ahead" of each is only that many bytes / row_bytes rows ahead.
// So each read prefetches the same place in the rows whole tiles below: the smallest whole number
// of tiles (R rows' bytes) at least kPrefetchDistance ahead, whatever the row length.
constexpr size_t whole_tiles_ahead(size_t tile_bytes) {
  return (kPrefetchDistance + tile_bytes - 1) / tile_bytes * tile_bytes;
}

// Four rows interleaved in pieces of kPiece bytes: in each quad of rows 4q..4q+3, piece p of
// quad row i lies at (4p + i) * kPiece from the quad's start, then come the four rows' last
// row_bytes % kPiece bytes one after another. A four-row tile then reads one sequential stream
// instead of four streams a row apart, with the same arithmetic. Rows are packed in groups of 16,
// the last group padded with zero rows.
//
// Byte o of quad row i, for rows of `whole` bytes in whole pieces and `tail` more. A free
// function, forced inline, so a kernel can keep the few values it needs in its own tile struct
// (F16 in L2 read at 63 GB/s through a member FourRowInterleave, 85 so).
template <size_t kPiece>
[[gnu::always_inline]] inline const uint8_t* interleaved_at(const uint8_t* quad, size_t whole, size_t tail, int i,
                                                            size_t o) {
  const size_t row = static_cast<size_t>(i);
  return o < whole ? quad + (o / kPiece) * 4 * kPiece + row * kPiece + o % kPiece : quad + 4 * whole + row * tail + (o - whole);
}

template <size_t kPiece>
struct FourRowInterleave {
  size_t row_bytes, whole, tail;  // per row: bytes in whole pieces, then the rest

  explicit FourRowInterleave(size_t row_bytes)
      : row_bytes(row_bytes), whole(row_bytes / kPiece * kPiece), tail(row_bytes - whole) {}
  // The quad holding row r of the packed weights w.
  [[gnu::always_inline]] const uint8_t* quad_of(const uint8_t* w, int64_t r) const {
    return w + static_cast<size_t>(r / 4) * 4 * row_bytes;
  }
  // Piece p of quad row i.
  [[gnu::always_inline]] static const uint8_t* piece(const uint8_t* quad, int i, size_t p) {
    return quad + (4 * p + static_cast<size_t>(i)) * kPiece;
  }
  const uint8_t* at(const uint8_t* quad, int i, size_t o) const { return interleaved_at<kPiece>(quad, whole, tail, i, o); }

  void pack(const uint8_t* w, int64_t rows, uint8_t* dst) const {
    for (int64_t r0 = 0; r0 < rows; r0 += 16) {
      std::memset(dst + static_cast<size_t>(r0) * row_bytes, 0, 16 * row_bytes);
      for (int64_t r = r0; r < r0 + 16 && r < rows; ++r) {
        uint8_t* quad = dst + static_cast<size_t>(r / 4) * 4 * row_bytes;
        const uint8_t* src = w + static_cast<size_t>(r) * row_bytes;
        for (size_t o = 0; o < row_bytes; o += kPiece) {
          // The destination is ours to write: at() only computes the address.
          std::memcpy(const_cast<uint8_t*>(at(quad, static_cast<int>(r % 4), o)), src + o, piece_bytes(o));
        }
      }
    }
  }
  // Row r of the packed weights, back as stored.
  void unpack_row(const uint8_t* packed, int64_t r, uint8_t* dst) const {
    const uint8_t* quad = quad_of(packed, r);
    for (size_t o = 0; o < row_bytes; o += kPiece) std::memcpy(dst + o, at(quad, static_cast<int>(r % 4), o), piece_bytes(o));
  }

 private:
  size_t piece_bytes(size_t o) const { return o < whole ? kPiece : tail; }
};

}  // namespace
}  // namespace anychip::cpu
