// Single-thread speed of the CPU's f16-cache attention kernel for one decode step of one layer
// (Llama 3's shape: 32 query heads on 8 KV heads of 64), in query-head x key pairs per second:
// once with the layer's cache in L1/L2, and once cold, cycling through more layers' caches than
// the last-level cache holds, as generation sees them (every weight streams through the caches
// between two visits of a layer).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "backend/cpu/kernels/attention_kernels.h"
#include "quant/quant.h"

namespace anychip::cpu {
namespace {

constexpr int kHeadDim = 64, kHeads = 32, kKvHeads = 8, kBlockSize = 16;

void attention_decode(benchmark::State& state, int64_t n_keys, int n_caches) {
  const AttentionGroupF16Fn attend = find_attention_f16(detect_isa(), kHeadDim);
  if (!attend) {
    state.SkipWithError("no fast attention kernel on this CPU");
    return;
  }
  const size_t row_stride = static_cast<size_t>(kKvHeads) * kHeadDim;  // halves
  const size_t cache_halves = row_stride * static_cast<size_t>(n_keys);
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<uint16_t> distinct(cache_halves);
  for (uint16_t& h : distinct) h = quant::fp32_to_fp16(normal(rng));
  // K and V of each layer's cache side by side; the same values in each, distinct memory.
  std::vector<uint16_t> caches(2 * cache_halves * static_cast<size_t>(n_caches));
  for (size_t c = 0; c < 2 * static_cast<size_t>(n_caches); ++c) std::copy(distinct.begin(), distinct.end(), caches.begin() + c * cache_halves);
  std::vector<int32_t> blocks(static_cast<size_t>((n_keys + kBlockSize - 1) / kBlockSize));
  for (size_t b = 0; b < blocks.size(); ++b) blocks[b] = static_cast<int32_t>(b);
  std::vector<float> q(static_cast<size_t>(kHeads * kHeadDim)), out(q.size());
  for (float& x : q) x = normal(rng);
  const int group = kHeads / kKvHeads;
  int layer = 0;
  for (auto _ : state) {
    const uint16_t* k = caches.data() + 2 * cache_halves * static_cast<size_t>(layer);
    const uint16_t* v = k + cache_halves;
    for (int g = 0; g < kKvHeads; ++g) {
      attend(q.data() + g * group * kHeadDim, group, k + g * kHeadDim, v + g * kHeadDim, row_stride, blocks.data(),
             kBlockSize, kHeadDim, n_keys, 0.125f, out.data() + g * group * kHeadDim);
    }
    benchmark::DoNotOptimize(out.data());
    layer = (layer + 1) % n_caches;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kHeads * n_keys);
}

}  // namespace

void register_attention_benchmarks() {
  for (int64_t keys : {128, 1024}) {
    const std::string name = "attention/decode/keys:" + std::to_string(keys);
    benchmark::RegisterBenchmark((name + "/cached").c_str(), attention_decode, keys, 1);
    // 64 MiB of caches at 1024 keys, 8 MiB at 128: beyond this machine's L3 share either way
    // once the weights' stream is gone; here nothing else evicts them, so use enough.
    const int n_caches = static_cast<int>(std::max<int64_t>(32, (256ll << 20) / (keys * 2048 * 2)));
    benchmark::RegisterBenchmark((name + "/cold").c_str(), attention_decode, keys, n_caches);
  }
}

}  // namespace anychip::cpu
