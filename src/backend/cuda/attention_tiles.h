#pragma once
// How the attention kernel groups query rows: runs of consecutive rows of the same sequence, at
// most `max_rows` long, each becoming one tile that reads the sequence's keys and values once.
// Header-only and free of CUDA so the grouping is unit-tested everywhere.
#include <cstdint>
#include <span>
#include <vector>

namespace anychip::cuda {

// (first row, row count) pairs covering every row in order; empty when every tile would hold
// a single row (then the decode kernel, one row per block, is the better fit).
inline std::vector<int32_t> attention_tiles(std::span<const int32_t> row_seq, int max_rows) {
  std::vector<int32_t> tiles;
  bool any_shared = false;
  for (size_t r = 0; r < row_seq.size(); ++r) {
    const bool extends = !tiles.empty() && row_seq[r] == row_seq[r - 1] && tiles.back() < max_rows;
    if (extends) {
      ++tiles.back();
      any_shared = true;
    } else {
      tiles.push_back(static_cast<int32_t>(r));
      tiles.push_back(1);
    }
  }
  if (!any_shared) tiles.clear();
  return tiles;
}

}  // namespace anychip::cuda
