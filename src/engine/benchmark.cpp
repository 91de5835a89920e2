#include "engine/benchmark.h"

#include <algorithm>
#include <chrono>

#include "engine/sampler.h"
#include "util/error.h"

namespace anychip::engine {

static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

BenchResult run_benchmark(model::Model& model, const BenchOptions& o) {
  if (o.prompt_tokens < 1 || o.gen_tokens < 1 || o.repeats < 1) {
    throw Error("bench needs at least 1 prompt token, 1 generated token and 1 repeat");
  }
  const int64_t n_vocab = model.config().n_vocab;
  // The peer script's prompt: spread over the vocabulary, away from the special ids at its ends.
  std::vector<int32_t> prompt(static_cast<size_t>(o.prompt_tokens));
  for (int i = 0; i < o.prompt_tokens; ++i) {
    prompt[static_cast<size_t>(i)] = static_cast<int32_t>(100 + (int64_t{i} * 7919) % std::max<int64_t>(1, n_vocab - 200));
    prompt[static_cast<size_t>(i)] = static_cast<int32_t>(std::min<int64_t>(prompt[static_cast<size_t>(i)], n_vocab - 1));
  }
  BenchResult r;
  model::KvCache cache = model.make_cache(o.prompt_tokens + o.gen_tokens + 1);
  using clock = std::chrono::steady_clock;
  for (int rep = 0; rep <= o.repeats; ++rep) {
    if (o.on_phase) o.on_phase(rep == 0 ? BenchOptions::Phase::WarmUp : BenchOptions::Phase::Prompt);
    auto t0 = clock::now();
    int32_t next = model.forward_argmax(prompt, 0, cache);
    const double pp_seconds = std::chrono::duration<double>(clock::now() - t0).count();
    const bool probing = rep > 0 && o.probe_read_gbs;
    double probe_before = 0;
    if (probing) {
      if (o.on_phase) o.on_phase(BenchOptions::Phase::Probe);
      probe_before = o.probe_read_gbs();
    }
    if (o.on_phase && rep > 0) o.on_phase(BenchOptions::Phase::Generation);
    t0 = clock::now();
    int32_t pos = o.prompt_tokens;
    // Greedy, with the argmax found on the device: one id per token comes back, as in serving.
    for (int i = 0; i < o.gen_tokens; ++i) next = model.forward_argmax(std::span(&next, 1), pos++, cache);
    const double tg_seconds = std::chrono::duration<double>(clock::now() - t0).count();
    if (rep == 0) continue;  // warm-up: page in the weights, size the scratch buffers
    r.pp_runs.push_back(o.prompt_tokens / pp_seconds);
    r.tg_runs.push_back(o.gen_tokens / tg_seconds);
    if (probing) {
      if (o.on_phase) o.on_phase(BenchOptions::Phase::Probe);
      r.probe_runs_gbs.push_back(std::max(probe_before, o.probe_read_gbs()));
    }
  }
  r.pp_tok_s = median(r.pp_runs);
  r.tg_tok_s = median(r.tg_runs);
  r.weight_bytes_per_token = static_cast<double>(model.weight_bytes_per_token());
  r.gen_bandwidth_gbs = r.weight_bytes_per_token * r.tg_tok_s / 1e9;
  if (!r.probe_runs_gbs.empty()) {
    for (size_t i = 0; i < r.tg_runs.size(); ++i) {
      const double probe = r.probe_runs_gbs[i];
      r.roofline_runs.push_back(probe > 0 ? r.weight_bytes_per_token * r.tg_runs[i] / 1e9 / probe : 0.0);
    }
    r.machine_bandwidth_gbs = median(r.probe_runs_gbs);
    r.roofline_frac = median(r.roofline_runs);
  }
  return r;
}

}  // namespace anychip::engine
