// Whole models on the CUDA device through Model::forward_batch as `serve` drives it: three
// sequences of different lengths prefilled in one batch (the cuBLAS and tiled-attention paths),
// their keys/values in scattered blocks of one cache pool, then several decode steps of all
// three (the matrix-vector and decode-attention kernels). Logits must match the CPU backend
// running the same batches within the conformance tolerances, and the decode steps, which
// repeat one batch shape, must replay a CUDA graph with the same logits as launching kernel by
// kernel (ANYCHIP_CUDA_GRAPHS=0).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "model/model.h"
#include "support/cuda_fixture.h"
#if defined(ANYCHIP_HAVE_CUDA) || defined(ANYCHIP_CUDA_EMULATION)
#include "backend/cuda/cuda_backend.h"
#endif

namespace anychip::testing::cudatest {
namespace {

struct Sequence {
  std::vector<int32_t> tokens;  // the prompt
  std::vector<int32_t> blocks;
};

constexpr int kBlock = 16, kMaxBlocks = 3, kDecodeSteps = 4;

float logit_range(const float* l, int64_t n) {
  const auto [lo, hi] = std::minmax_element(l, l + n);
  return *hi - *lo;
}

// The prefill batch (prompts interleaved, as a scheduler mixing requests packs them) and then
// kDecodeSteps decode steps feeding fixed tokens; returns every step's logits (one row per sequence).
std::vector<std::vector<float>> run_batched(model::Model& m, const std::vector<Sequence>& seqs) {
  model::KvCache cache = m.make_cache(8 * kBlock);
  std::vector<int32_t> table;
  for (const Sequence& s : seqs) {
    std::vector<int32_t> row = s.blocks;
    row.resize(kMaxBlocks, 0);
    table.insert(table.end(), row.begin(), row.end());
  }
  std::vector<std::vector<float>> steps;
  std::vector<int32_t> tokens, positions, cache_rows, row_seq, outputs;
  auto pages = [&] { return backend::KvPages{kBlock, kMaxBlocks, table, row_seq}; };
  std::vector<int32_t> last_row(seqs.size());
  // Prompts: runs of consecutive positions per sequence, so the attention tiles hold several rows.
  for (size_t s = 0; s < seqs.size(); ++s) {
    for (size_t p = 0; p < seqs[s].tokens.size(); ++p) {
      last_row[s] = static_cast<int32_t>(tokens.size());
      tokens.push_back(seqs[s].tokens[p]);
      positions.push_back(static_cast<int32_t>(p));
      row_seq.push_back(static_cast<int32_t>(s));
    }
  }
  for (size_t t = 0; t < tokens.size(); ++t) cache_rows.push_back(static_cast<int32_t>(pages().cache_row(row_seq[t], positions[t])));
  outputs = last_row;
  std::vector<float> logits;
  m.forward_batch({tokens, positions, cache_rows, pages(), outputs}, cache, logits);
  steps.push_back(logits);

  for (int step = 0; step < kDecodeSteps; ++step) {
    tokens.clear(), positions.clear(), cache_rows.clear(), row_seq.clear(), outputs.clear();
    for (size_t s = 0; s < seqs.size(); ++s) {
      tokens.push_back(static_cast<int32_t>((step * 53 + s * 7 + 11) % 500));
      positions.push_back(static_cast<int32_t>(seqs[s].tokens.size()) + step);
      row_seq.push_back(static_cast<int32_t>(s));
      outputs.push_back(static_cast<int32_t>(s));
    }
    for (size_t t = 0; t < tokens.size(); ++t) cache_rows.push_back(static_cast<int32_t>(pages().cache_row(row_seq[t], positions[t])));
    m.forward_batch({tokens, positions, cache_rows, pages(), outputs}, cache, logits);
    steps.push_back(logits);
  }
  return steps;
}

std::vector<Sequence> test_sequences() {
  std::vector<Sequence> seqs = {{{}, {5, 1}}, {{}, {3, 4}}, {{}, {0, 7, 2}}};
  const size_t lengths[] = {20, 7, 34};
  for (size_t s = 0; s < seqs.size(); ++s) {
    for (size_t i = 0; i < lengths[s]; ++i) seqs[s].tokens.push_back(static_cast<int32_t>((i * 37 + s * 101 + 1) % 500));
  }
  return seqs;
}

class CudaModel : public CudaTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(CudaModel, PagedBatchesMatchCpuAndGraphsMatchEagerLaunches) {
  const std::string path = std::string(ANYCHIP_SHARED_DIR) + "/conformance/" + GetParam();
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "skipped: " << path << " not found";
  DeviceOrReason& eager_device = cuda_device("0");
  ASSERT_TRUE(eager_device.device) << eager_device.reason;
  const auto seqs = test_sequences();
  auto cpu = backend::create_device("cpu", {2});
  auto cpu_model = model::Model::load(path, *cpu);
  auto gpu_model = model::Model::load(path, *dev);
  auto eager_model = model::Model::load(path, *eager_device.device);
  const int64_t n_vocab = gpu_model->config().n_vocab;
  const auto want = run_batched(*cpu_model, seqs);
  const auto got = run_batched(*gpu_model, seqs);
  const auto eager = run_batched(*eager_model, seqs);
  // The conformance tolerance of the file's type, against llama.cpp; here against our CPU backend.
  const std::string name = GetParam();
  const float tolerance = name.find("f32") != std::string::npos ? 1e-3f : name.find("f16") != std::string::npos ? 5e-3f : 2e-2f;
  for (size_t step = 0; step < got.size(); ++step) {
    for (size_t s = 0; s < seqs.size(); ++s) {
      const float* g = &got[step][s * n_vocab];
      const float* w = &want[step][s * n_vocab];
      const float* e = &eager[step][s * n_vocab];
      const float range = logit_range(w, n_vocab);
      for (int64_t i = 0; i < n_vocab; ++i) {
        ASSERT_NEAR(g[i], w[i], tolerance * range) << GetParam() << " step " << step << " seq " << s << " id " << i;
        ASSERT_NEAR(g[i], e[i], 1e-6f * range) << "graph vs eager, step " << step << " seq " << s << " id " << i;
      }
    }
  }
#if defined(ANYCHIP_HAVE_CUDA) || defined(ANYCHIP_CUDA_EMULATION)
  const cuda::StreamStats graphs = cuda::stream_stats(*dev), plain = cuda::stream_stats(*eager_device.device);
  std::printf("[ graphs   ] %s: %llu flushes, %llu eager, %llu captured, %llu replayed\n", GetParam(),
              static_cast<unsigned long long>(graphs.flushes), static_cast<unsigned long long>(graphs.eager),
              static_cast<unsigned long long>(graphs.captured), static_cast<unsigned long long>(graphs.replayed));
  EXPECT_GT(graphs.replayed, 0u) << "decode steps of one batch shape should replay a graph";
  EXPECT_EQ(plain.captured + plain.replayed, 0u) << "ANYCHIP_CUDA_GRAPHS=0 must launch kernel by kernel";
#endif
}

#ifdef ANYCHIP_CUDA_EMULATION
// Emulated kernels run a few hundred times slower: one half-precision and one quantized model.
#define ANYCHIP_CUDA_MODEL_FILES "c-qwen2-s7-f16.gguf", "c-llama-s7-q4_k_m.gguf"
#else
#define ANYCHIP_CUDA_MODEL_FILES \
  "c-qwen2-s7-f16.gguf", "c-llama-s7-q4_k_m.gguf", "c-llama-s7-q4_0.gguf", "c-qwen3-s7-q4_k_m.gguf", "c-llama-s7-f32.gguf"
#endif

INSTANTIATE_TEST_SUITE_P(Files, CudaModel, ::testing::Values(ANYCHIP_CUDA_MODEL_FILES),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string n = info.param;
                           n = n.substr(0, n.find(".gguf"));
                           std::replace_if(n.begin(), n.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
                           return n;
                         });

}  // namespace
}  // namespace anychip::testing::cudatest
