#include "backend/cpu/bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>

#include "backend/cpu/cpu_buffer.h"
#include "backend/cpu/stream_read.h"
#include "backend/cpu/thread_pool.h"

namespace anychip::cpu {

double measure_read_bandwidth_gbs(int threads, uint64_t buffer_bytes, int repeats) {
  auto buffer = HostBuffer::allocate(buffer_bytes);
  // Touch every page with non-zero data so reads hit real memory, not the shared zero page.
  auto* words = static_cast<uint64_t*>(buffer->host_ptr());
  const size_t n_words = buffer_bytes / sizeof(uint64_t);
  for (size_t i = 0; i < n_words; ++i) words[i] = i * 0x9E3779B97F4A7C15ull;
  const StreamReadFn read = stream_read_for_this_cpu();
  ThreadPool pool(threads);
  double best = 0;
  volatile uint64_t sink = 0;
  for (int r = 0; r < repeats; ++r) {
    std::vector<uint64_t> partial(static_cast<size_t>(threads), 0);
    const auto t0 = std::chrono::steady_clock::now();
    pool.parallel_for(threads, [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) {
        const size_t first = n_words * static_cast<size_t>(t) / static_cast<size_t>(threads);
        const size_t last = n_words * static_cast<size_t>(t + 1) / static_cast<size_t>(threads);
        partial[static_cast<size_t>(t)] =
            read(reinterpret_cast<const uint8_t*>(words + first), (last - first) * sizeof(uint64_t));
      }
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (uint64_t v : partial) sink = sink ^ v;
    best = std::max(best, static_cast<double>(buffer_bytes) / seconds / 1e9);
  }
  return best;
}

}  // namespace anychip::cpu
