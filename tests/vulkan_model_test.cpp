// A whole model on the Vulkan device through Model::forward_batch as `serve` will drive it:
// three sequences of different lengths prefilled in one batch, their keys/values in scattered
// blocks of 16 rows of one cache pool, then one decode step for all three. Logits must match the
// CPU backend running the same batch (within the f16 conformance tolerance) and, per sequence,
// the Vulkan device running that sequence alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "model/model.h"
#include "support/vulkan_fixture.h"

namespace anychip::testing {
namespace {

const char* const kModel = ANYCHIP_SHARED_DIR "/conformance/c-qwen2-s7-f16.gguf";

struct Sequence {
  std::vector<int32_t> tokens;
  std::vector<int32_t> blocks;
};

float logit_range(const float* l, int64_t n) {
  const auto [lo, hi] = std::minmax_element(l, l + n);
  return *hi - *lo;
}

// Runs the prefill batch then one decode step; returns both steps' logits (one row per sequence).
std::vector<std::vector<float>> run_batched(model::Model& m, const std::vector<Sequence>& seqs) {
  constexpr int kBlock = 16, kMaxBlocks = 3;
  model::KvCache cache = m.make_cache(8 * kBlock);
  std::vector<int32_t> table;
  for (const Sequence& s : seqs) {
    std::vector<int32_t> row = s.blocks;
    row.resize(kMaxBlocks, 0);
    table.insert(table.end(), row.begin(), row.end());
  }
  std::vector<std::vector<float>> steps;
  std::vector<int32_t> tokens, positions, cache_rows, row_seq, outputs;
  // Prefill: the sequences' tokens interleaved, as a scheduler mixing requests would pack them.
  const size_t longest = std::max_element(seqs.begin(), seqs.end(), [](auto& a, auto& b) {
                           return a.tokens.size() < b.tokens.size();
                         })->tokens.size();
  std::vector<int32_t> last_row(seqs.size());
  for (size_t p = 0; p + 1 < longest; ++p) {
    for (size_t s = 0; s < seqs.size(); ++s) {
      if (p + 1 >= seqs[s].tokens.size()) continue;  // the last token is the decode step's
      last_row[s] = static_cast<int32_t>(tokens.size());
      tokens.push_back(seqs[s].tokens[p]);
      positions.push_back(static_cast<int32_t>(p));
      row_seq.push_back(static_cast<int32_t>(s));
    }
  }
  auto pages = [&] { return backend::KvPages{kBlock, kMaxBlocks, table, row_seq}; };
  for (size_t t = 0; t < tokens.size(); ++t) cache_rows.push_back(static_cast<int32_t>(pages().cache_row(row_seq[t], positions[t])));
  outputs = last_row;
  std::vector<float> logits;
  m.forward_batch({tokens, positions, cache_rows, pages(), outputs}, cache, logits);
  steps.push_back(logits);

  tokens.clear(), positions.clear(), cache_rows.clear(), row_seq.clear(), outputs.clear();
  for (size_t s = 0; s < seqs.size(); ++s) {
    tokens.push_back(seqs[s].tokens.back());
    positions.push_back(static_cast<int32_t>(seqs[s].tokens.size() - 1));
    row_seq.push_back(static_cast<int32_t>(s));
    outputs.push_back(static_cast<int32_t>(s));
  }
  for (size_t t = 0; t < tokens.size(); ++t) cache_rows.push_back(static_cast<int32_t>(pages().cache_row(row_seq[t], positions[t])));
  m.forward_batch({tokens, positions, cache_rows, pages(), outputs}, cache, logits);
  steps.push_back(logits);
  return steps;
}

class VulkanModel : public VulkanTest {};

TEST_P(VulkanModel, PagedBatchOfSequencesMatchesCpuAndSingleRuns) {
  if (!std::filesystem::exists(kModel)) GTEST_SKIP() << "skipped: " << kModel << " not found";
  std::vector<Sequence> seqs = {{{}, {5, 1}}, {{}, {3}}, {{}, {0, 7, 2}}};
  const size_t lengths[] = {20, 7, 34};
  for (size_t s = 0; s < seqs.size(); ++s) {
    for (size_t i = 0; i < lengths[s]; ++i) seqs[s].tokens.push_back(static_cast<int32_t>((i * 37 + s * 101 + 1) % 500));
  }
  auto cpu = backend::create_device("cpu", {2});
  auto cpu_model = model::Model::load(kModel, *cpu);
  auto gpu_model = model::Model::load(kModel, *dev);
  const int64_t n_vocab = gpu_model->config().n_vocab;
  const auto want = run_batched(*cpu_model, seqs);
  const auto got = run_batched(*gpu_model, seqs);
  for (size_t step = 0; step < 2; ++step) {
    for (size_t s = 0; s < seqs.size(); ++s) {
      const float* g = &got[step][s * n_vocab];
      const float* w = &want[step][s * n_vocab];
      const float tol = 5e-3f * logit_range(w, n_vocab);
      for (int64_t i = 0; i < n_vocab; ++i) ASSERT_NEAR(g[i], w[i], tol) << "step " << step << " seq " << s << " id " << i;
    }
  }
  // Each sequence alone, in a contiguous cache of its own, gives the same logits.
  for (size_t s = 0; s < seqs.size(); ++s) {
    model::KvCache cache = gpu_model->make_cache(64);
    std::vector<float> logits;
    const std::vector<int32_t>& t = seqs[s].tokens;
    gpu_model->forward(std::span(t).first(t.size() - 1), 0, cache, logits);
    const float range = logit_range(logits.data(), n_vocab);
    for (int64_t i = 0; i < n_vocab; ++i) ASSERT_NEAR(logits[i], got[0][s * n_vocab + i], 1e-4f * range) << "seq " << s;
    gpu_model->forward(std::span(t).last(1), static_cast<int32_t>(t.size() - 1), cache, logits);
    for (int64_t i = 0; i < n_vocab; ++i) ASSERT_NEAR(logits[i], got[1][s * n_vocab + i], 1e-4f * range) << "seq " << s;
  }
}

// Native shaders and the full fallback path.
INSTANTIATE_TEST_SUITE_P(Modes, VulkanModel, ::testing::Values("", "all"), mode_name);

}  // namespace
}  // namespace anychip::testing
