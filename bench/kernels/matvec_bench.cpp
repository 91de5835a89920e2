// Single-thread throughput of the CPU matmul kernels for one token (the decode matvec), in GB/s
// of weights read: once on a matrix that stays in L2 (the kernel's own speed, no memory stalls)
// and once on a matrix far larger than the last-level cache (what generation sees). When the
// in-cache figure is not well above the machine's per-core read bandwidth, the kernel is
// compute-bound and no prefetching will make generation reach the roofline.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "backend/cpu/kernels/matmul_kernels.h"
#include "backend/cpu/stream_read.h"
#include "gguf/ggml_type.h"
#include "quant/quant.h"

namespace anychip::cpu {
namespace {

constexpr int64_t kCols = 2048;

struct Problem {
  const MatmulKernels* kernels = nullptr;
  std::vector<uint8_t> weights;
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

// packed: the weights in the kernel's load-time layout (the engine's default where one exists).
void matvec(benchmark::State& state, GgmlType type, size_t bytes, bool packed) {
  Problem p = make_problem(type, bytes);
  if (!p.kernels || (packed && !p.kernels->pack)) {
    state.SkipWithError(packed ? "no packed layout for this type" : "no kernel for this type");
    return;
  }
  GemmFn gemm = p.kernels->gemm;
  if (packed) {
    std::vector<uint8_t> rows = std::move(p.weights);
    p.weights.assign(p.row_bytes * static_cast<size_t>(packed_rows(p.rows)), 0);
    p.kernels->pack(rows.data(), p.row_bytes, kCols, p.rows, p.weights.data());
    gemm = p.kernels->gemm_packed;
  }
  for (auto _ : state) {
    gemm(p.weights.data(), p.row_bytes, kCols, p.activations.data(), p.activations.size(), 1, p.out.data(),
                    p.out.size(), 0, p.rows);
    benchmark::DoNotOptimize(p.out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(p.weights.size()));
  state.SetLabel(std::string(type_name(type)) + " on " + isa_name(p.kernels->isa));
}

constexpr size_t kInMemory = 512ull * 1024 * 1024;

// The plain read loop the bandwidth probe uses, on one core: the ceiling for the DRAM figures.
void stream(benchmark::State& state, size_t bytes) {
  std::vector<uint8_t> buffer(bytes, 1);
  const StreamReadFn read = stream_read_for_this_cpu();
  for (auto _ : state) benchmark::DoNotOptimize(read(buffer.data(), buffer.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(bytes));
}

constexpr size_t kInCache = 512 * 1024;

void register_all() {
  benchmark::RegisterBenchmark("stream/dram", stream, kInMemory)->MinTime(1.0);
  for (GgmlType type : {GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q6_K, GgmlType::Q5_K, GgmlType::F16}) {
    const std::string name(type_name(type));
    for (bool packed : {false, true}) {
      if (packed && !find_matmul_kernels(type, detect_isa())->pack) continue;
      const std::string variant = "matvec/" + name + (packed ? "/packed" : "");
      benchmark::RegisterBenchmark((variant + "/l2").c_str(), matvec, type, kInCache, packed);
      benchmark::RegisterBenchmark((variant + "/dram").c_str(), matvec, type, kInMemory, packed)->MinTime(1.0);
    }
  }
}

}  // namespace
}  // namespace anychip::cpu

int main(int argc, char** argv) {
  anychip::cpu::register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
