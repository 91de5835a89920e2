#pragma once
// Generation repeats one sequence of matmuls per token, so which weights the next matmul reads is
// known from the token before. A thread that has finished its part of one matmul can then start
// fetching the first bytes of its part of the next one, while the small ops between the two run:
// the next matmul starts with its data arriving instead of with a round trip to memory. (On a
// host with the memory bandwidth to itself, a layer-sized matmul otherwise loses several percent
// to that ramp.) A wrong prediction costs a few wasted prefetches, never a wrong result.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>

namespace anychip::cpu {

class NextReadPredictor {
 public:
  static constexpr int kMaxMatrices = 4;
  static constexpr int64_t kRowsPerChunk = 16;

  // The weights of one matmul dispatch: its matrices' 16-row chunks numbered one after another,
  // as the device splits them across threads.
  struct Read {
    int count = 0;
    const uint8_t* base[kMaxMatrices] = {};
    size_t row_stride[kMaxMatrices] = {};
    int64_t first_chunk[kMaxMatrices + 1] = {};

    void add(const uint8_t* rows, size_t stride, int64_t n_rows);
    int64_t chunks() const { return first_chunk[count]; }
    const uint8_t* chunk_address(int64_t chunk) const;
  };

  // Records that `read` follows the previous read and returns the read that followed `read` the
  // last time it was seen.
  std::optional<Read> advance(const Read& read);

  // Prefetches `bytes` from where thread `thread` of `threads` starts in `read` (the front of its
  // share of a balanced split).
  static void prefetch_share(const Read& read, int thread, int threads, size_t bytes);

 private:
  std::unordered_map<const uint8_t*, Read> next_;  // keyed by a read's first matrix
  const uint8_t* last_ = nullptr;
};

}  // namespace anychip::cpu
