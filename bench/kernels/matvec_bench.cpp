// Single-thread throughput of the CPU matmul kernels for one token (the decode matvec), in GB/s
// of weights read: once on a matrix that stays in L2 (the kernel's own speed, no memory stalls)
// and once on a matrix far larger than the last-level cache (what generation sees). When the
// in-cache figure is not well above the machine's per-core read bandwidth, the kernel is
// compute-bound and no prefetching will make generation reach the roofline.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <immintrin.h>
#include <random>
#include <cstdlib>
#include <vector>

#include "backend/cpu/cpu_buffer.h"
#include "backend/cpu/kernels/matmul_kernels.h"
#include "backend/cpu/thread_pool.h"
#include "backend/cpu/stream_read.h"
#include "gguf/ggml_type.h"
#include "quant/quant.h"

namespace anychip::cpu {
namespace {

constexpr int64_t kCols = 2048;
constexpr size_t kInMemoryBytes = 512ull * 1024 * 1024;
constexpr size_t kInCache = 512 * 1024;

// Large buffers on 2 MiB pages where the kernel grants them, as the engine's packed weights and
// the bandwidth probe's buffer are: the page size changes how far the hardware prefetchers run,
// so the figures here should be taken on the pages generation reads from.
template <class T>
struct StreamAllocator {
  using value_type = T;
  StreamAllocator() = default;
  template <class U>
  StreamAllocator(const StreamAllocator<U>&) {}
  T* allocate(size_t n) { return reinterpret_cast<T*>(allocate_stream_memory(n * sizeof(T))); }
  void deallocate(T* p, size_t) { std::free(p); }
  template <class U>
  bool operator==(const StreamAllocator<U>&) const { return true; }
};
using Bytes = std::vector<uint8_t, StreamAllocator<uint8_t>>;

struct Problem {
  const MatmulKernels* kernels = nullptr;
  Bytes weights;
  std::vector<uint8_t> activations;
  std::vector<float> out;
  size_t row_bytes = 0;
  int64_t rows = 0;
};

Problem make_problem(GgmlType type, size_t target_bytes) {
  Problem p;
  p.kernels = find_matmul_kernels(type, detect_isa());
  p.row_bytes = anychip::row_bytes(type, kCols);
  p.rows = static_cast<int64_t>(target_bytes / p.row_bytes);
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> row(kCols);
  // Quantizing every row is slow for the large matrix; a handful of distinct rows repeated gives
  // the same memory traffic and the same arithmetic.
  constexpr int64_t kDistinct = 16;
  std::vector<uint8_t> distinct(p.row_bytes * kDistinct);
  for (int64_t r = 0; r < kDistinct; ++r) {
    for (float& v : row) v = normal(rng) * 0.05f;
    quant::quantize_row(type, row.data(), distinct.data() + r * p.row_bytes, kCols);
  }
  p.weights.resize(p.row_bytes * static_cast<size_t>(p.rows));
  for (int64_t r = 0; r < p.rows; ++r) {
    std::copy_n(distinct.data() + (r % kDistinct) * p.row_bytes, p.row_bytes, p.weights.data() + r * p.row_bytes);
  }
  for (float& v : row) v = normal(rng);
  p.activations.resize(anychip::row_bytes(p.kernels->activation_type, kCols));
  p.kernels->quantize(row.data(), p.activations.data(), kCols);
  p.out.resize(static_cast<size_t>(p.rows));
  return p;
}

// The weights in the kernel's load-time layout; returns that layout's kernel.
GemmFn pack_in_place(Problem& p) {
  Bytes rows = std::move(p.weights);
  p.weights.assign(p.row_bytes * static_cast<size_t>(packed_rows(p.rows)), 0);
  p.kernels->pack(rows.data(), p.row_bytes, kCols, p.rows, p.weights.data());
  return p.kernels->gemm_packed;
}

// packed: the weights in the kernel's load-time layout (the engine's default where one exists).
void matvec(benchmark::State& state, GgmlType type, size_t bytes, bool packed) {
  Problem p = make_problem(type, bytes);
  if (!p.kernels || (packed && !p.kernels->pack)) {
    state.SkipWithError(packed ? "no packed layout for this type" : "no kernel for this type");
    return;
  }
  const GemmFn gemm = packed ? pack_in_place(p) : p.kernels->gemm;
  for (auto _ : state) {
    gemm(p.weights.data(), p.row_bytes, kCols, p.activations.data(), p.activations.size(), 1, p.out.data(),
                    p.out.size(), 0, p.rows);
    benchmark::DoNotOptimize(p.out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(p.weights.size()));
  state.SetLabel(std::string(type_name(type)) + " on " + isa_name(p.kernels->isa));
}

// Generation's access pattern on two threads: the large packed Q4_0 matrix read as a sequence of
// layer-sized matmuls (matrix_rows rows each), split four ways, against the probe's plain read
// loop ("stream"): "static" halves each matmul; "static_pf8k"/"_pf32k" also have each thread,
// after its half, prefetch that many bytes of its half of the next matmul (what a hint of the next
// op's weights could buy); "balanced" splits as CpuDevice::matmul does. Each iteration runs every
// variant once, so a host whose bandwidth swings (other tenants) hits them alike. Counters: GB/s.
void decode_ab(benchmark::State& state, int64_t matrix_rows) {
  Problem p = make_problem(GgmlType::Q4_0, kInMemoryBytes);
  const GemmFn gemm = pack_in_place(p);
  constexpr int threads = 2;
  ThreadPool pool(threads);
  const StreamReadFn read = stream_read_for_this_cpu();
  auto run_static = [&](size_t pf_bytes) {
    for (int64_t r0 = 0; r0 < p.rows; r0 += matrix_rows) {
      const int64_t rows = std::min(matrix_rows, p.rows - r0);
      const uint8_t* w = p.weights.data() + static_cast<size_t>(r0) * p.row_bytes;
      pool.parallel_for(threads, [&](int64_t b, int64_t) {
        const int64_t groups = (rows + 15) / 16;
        const int64_t begin = groups * b / threads * 16, end = std::min(rows, groups * (b + 1) / threads * 16);
        gemm(w, p.row_bytes, kCols, p.activations.data(), p.activations.size(), 1, p.out.data() + r0, p.out.size(), begin, end);
        if (pf_bytes && r0 + matrix_rows < p.rows) {
          const int64_t nrows = std::min(matrix_rows, p.rows - r0 - matrix_rows);
          const int64_t ngroups = (nrows + 15) / 16;
          const char* nx = reinterpret_cast<const char*>(w + static_cast<size_t>(matrix_rows + ngroups * b / threads * 16) * p.row_bytes);
          for (size_t o = 0; o < pf_bytes; o += 64) _mm_prefetch(nx + o, _MM_HINT_T0);
        }
      });
    }
  };
  auto run_balanced = [&](size_t pf_bytes) {
    for (int64_t r0 = 0; r0 < p.rows; r0 += matrix_rows) {
      const int64_t rows = std::min(matrix_rows, p.rows - r0);
      const uint8_t* w = p.weights.data() + static_cast<size_t>(r0) * p.row_bytes;
      const auto part = [&](int64_t begin, int64_t end) {
        gemm(w, p.row_bytes, kCols, p.activations.data(), p.activations.size(), 1, p.out.data() + r0, p.out.size(),
             begin * 16, std::min(end * 16, rows));
      };
      // As CpuDevice does: a thread out of work prefetches its share's start of the next matmul.
      const auto prefetch_next = [&](int b) {
        if (r0 + matrix_rows >= p.rows) return;
        const int64_t ngroups = (std::min(matrix_rows, p.rows - r0 - matrix_rows) + 15) / 16;
        const char* nx = reinterpret_cast<const char*>(w + static_cast<size_t>(matrix_rows + ngroups * b / threads * 16) * p.row_bytes);
        for (size_t o = 0; o < pf_bytes; o += 64) _mm_prefetch(nx + o, _MM_HINT_T0);
      };
      pool.parallel_for_balanced((rows + 15) / 16, part, prefetch_next);
    }
  };
  auto run_unsynced = [&] {
    pool.parallel_for(threads, [&](int64_t b, int64_t) {
      for (int64_t r0 = 0; r0 < p.rows; r0 += matrix_rows) {
        const int64_t rows = std::min(matrix_rows, p.rows - r0);
        const uint8_t* w = p.weights.data() + static_cast<size_t>(r0) * p.row_bytes;
        const int64_t groups = (rows + 15) / 16;
        const int64_t begin = groups * b / threads * 16, end = std::min(rows, groups * (b + 1) / threads * 16);
        gemm(w, p.row_bytes, kCols, p.activations.data(), p.activations.size(), 1, p.out.data() + r0, p.out.size(), begin, end);
      }
    });
  };
  auto run_stream = [&] {
    const size_t bytes = p.weights.size();
    pool.parallel_for(threads, [&](int64_t b, int64_t) {
      const size_t part = bytes / threads / 64 * 64;
      benchmark::DoNotOptimize(read(p.weights.data() + part * static_cast<size_t>(b), part));
    });
  };
  const std::vector<std::pair<std::string, std::function<void()>>> variants = {
      {"stream", run_stream}, {"static", [&] { run_static(0); }}, {"static_pf8k", [&] { run_static(8192); }},
      {"static_pf32k", [&] { run_static(32768); }}, {"balanced", [&] { run_balanced(0); }}, {"balanced_pf8k", [&] { run_balanced(8192); }},
      {"unsynced", run_unsynced}};
  std::vector<double> seconds(variants.size(), 0.0);
  for (auto _ : state) {
    for (size_t i = 0; i < variants.size(); ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      variants[i].second();
      seconds[i] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
  }
  for (size_t i = 0; i < variants.size(); ++i) {
    state.counters[variants[i].first] = static_cast<double>(state.iterations()) * static_cast<double>(p.weights.size()) / seconds[i] / 1e9;
  }
}

// The kernel alone on each of the benchmark's threads, each over its own part of one large
// packed matrix: the ceiling for decode_ab.
void matvec_threads(benchmark::State& state, GgmlType type) {
  static Problem shared;
  static GemmFn gemm = nullptr;
  if (state.thread_index() == 0) {
    shared = make_problem(type, kInMemoryBytes);
    gemm = pack_in_place(shared);
  }
  // Benchmark's threads start their loops together, after thread 0 has set up.
  const Problem& p = shared;
  for (auto _ : state) {
    const int64_t groups = packed_rows(p.rows) / kPackRows;
    const int64_t begin = groups * state.thread_index() / state.threads() * kPackRows;
    const int64_t end = std::min(p.rows, groups * (state.thread_index() + 1) / state.threads() * kPackRows);
    gemm(p.weights.data(), p.row_bytes, kCols, p.activations.data(), p.activations.size(), 1,
         const_cast<float*>(p.out.data()), p.out.size(), begin, end);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(p.weights.size()) /
                          state.threads());
}

// The plain read loop the bandwidth probe uses, on each of the benchmark's threads over its own
// part of one buffer: the ceiling for the DRAM figures.
void stream(benchmark::State& state, size_t bytes) {
  static Bytes buffer;
  if (state.thread_index() == 0) buffer.assign(bytes, 1);
  const StreamReadFn read = stream_read_for_this_cpu();
  const size_t part = bytes / static_cast<size_t>(state.threads()) / 64 * 64;
  for (auto _ : state) benchmark::DoNotOptimize(read(buffer.data() + part * static_cast<size_t>(state.thread_index()), part));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(part));
}


void register_all() {
  for (int64_t rows : {2048, 4608}) benchmark::RegisterBenchmark(("decode_ab/" + std::to_string(rows)).c_str(), decode_ab, rows)->MinTime(3.0)->UseRealTime();
  benchmark::RegisterBenchmark("stream/dram", stream, kInMemoryBytes)->MinTime(1.0)->ThreadRange(1, 2)->UseRealTime();
  benchmark::RegisterBenchmark("matvec_threads/q4_0/packed/dram", matvec_threads, GgmlType::Q4_0)
      ->MinTime(1.0)->ThreadRange(1, 2)->UseRealTime();
  for (GgmlType type : {GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K,
                         GgmlType::Q6_K, GgmlType::F16}) {
    const std::string name(type_name(type));
    for (bool packed : {false, true}) {
      if (packed && !find_matmul_kernels(type, detect_isa())->pack) continue;
      const std::string variant = "matvec/" + name + (packed ? "/packed" : "");
      benchmark::RegisterBenchmark((variant + "/l2").c_str(), matvec, type, kInCache, packed);
      benchmark::RegisterBenchmark((variant + "/dram").c_str(), matvec, type, kInMemoryBytes, packed)->MinTime(1.0);
    }
  }
}

}  // namespace
}  // namespace anychip::cpu

namespace anychip::cpu {
void register_attention_benchmarks();  // attention_bench.cpp
}

int main(int argc, char** argv) {
  anychip::cpu::register_all();
  anychip::cpu::register_attention_benchmarks();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
