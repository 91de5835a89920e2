#pragma once
// How a CUDA device's flushes ran; lets tests see that decode steps really replay graphs.
#include <cstdint>

namespace anychip::cuda {

struct StreamStats {
  uint64_t flushes = 0;   // flushes that ran work
  uint64_t eager = 0;     // ... launching kernel by kernel
  uint64_t captured = 0;  // ... capturing a new graph (then launching it)
  uint64_t replayed = 0;  // ... launching a cached graph
};

}  // namespace anychip::cuda
