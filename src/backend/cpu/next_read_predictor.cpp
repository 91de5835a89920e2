#include "backend/cpu/next_read_predictor.h"

#include <cassert>

namespace anychip::cpu {

void NextReadPredictor::Read::add(const uint8_t* rows, size_t stride, int64_t n_rows) {
  assert(count < kMaxMatrices);
  base[count] = rows;
  row_stride[count] = stride;
  first_chunk[count + 1] = first_chunk[count] + (n_rows + kRowsPerChunk - 1) / kRowsPerChunk;
  ++count;
}

const uint8_t* NextReadPredictor::Read::chunk_address(int64_t chunk) const {
  for (int i = 0; i < count; ++i) {
    if (chunk < first_chunk[i + 1]) return base[i] + static_cast<size_t>((chunk - first_chunk[i]) * kRowsPerChunk) * row_stride[i];
  }
  return nullptr;
}

std::optional<NextReadPredictor::Read> NextReadPredictor::advance(const Read& read) {
  assert(read.count > 0);
  if (last_) next_[last_] = read;
  last_ = read.base[0];
  const auto it = next_.find(read.base[0]);
  if (it == next_.end()) return std::nullopt;
  return it->second;
}

void NextReadPredictor::prefetch_share(const Read& read, int thread, int threads, size_t bytes) {
  const auto* p = read.chunk_address(read.chunks() * thread / threads);
  if (!p) return;
  for (size_t o = 0; o < bytes; o += 64) __builtin_prefetch(p + o, 0, 3);
}

}  // namespace anychip::cpu
