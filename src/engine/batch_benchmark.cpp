#include "engine/batch_benchmark.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "util/error.h"

namespace anychip::engine {
namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

// Distinct prompts (no prefix sharing between them), spread over the vocabulary.
std::vector<int32_t> synthetic_prompt(int64_t n_vocab, int tokens, int salt) {
  std::vector<int32_t> p(static_cast<size_t>(tokens));
  const int64_t span = std::max<int64_t>(1, n_vocab - 200);
  for (int i = 0; i < tokens; ++i) {
    p[static_cast<size_t>(i)] = static_cast<int32_t>(std::min<int64_t>(100 + (int64_t{i} * 7919 + int64_t{salt} * 104729) % span, n_vocab - 1));
  }
  return p;
}

// Submits one request per prompt at once and waits for all; returns the wall time in seconds
// from the first submit to the first token of the last request (first_token) and to the end.
struct Timing {
  double all_first_token = 0;
  double all_done = 0;
};

Timing run_requests(ServingEngine& engine, const std::vector<std::vector<int32_t>>& prompts, int max_tokens) {
  std::mutex m;
  std::condition_variable cv;
  size_t started = 0, done = 0;
  std::string error;
  Clock::time_point t_started, t_done;
  RequestOptions o;
  o.max_tokens = max_tokens;
  o.sampling.temperature = 0;
  o.ignore_eos = true;
  const auto t0 = Clock::now();
  for (const auto& p : prompts) {
    bool first = true;
    engine.submit(p, o, [&, first](const RequestOutput& out) mutable {
      std::lock_guard lock(m);
      if (first && !out.tokens.empty() && ++started == prompts.size()) t_started = Clock::now();
      first = false;
      if (out.finished) {
        // Reported from the waiting thread: an exception here would only end up in the engine.
        if (!out.error.empty() && error.empty()) error = out.error;
        if (++done == prompts.size()) t_done = Clock::now();
        cv.notify_all();
      }
    });
  }
  std::unique_lock lock(m);
  cv.wait(lock, [&] { return done == prompts.size(); });
  if (!error.empty()) throw Error("batch benchmark request failed: " + error);
  return {std::chrono::duration<double>(t_started - t0).count(), std::chrono::duration<double>(t_done - t0).count()};
}

}  // namespace

std::vector<BatchPoint> run_batch_benchmark(model::Model& model, const std::vector<int>& batches, int prompt_tokens,
                                            int gen_tokens, int repeats) {
  if (batches.empty()) throw Error("--batch needs at least one batch size");
  const int max_batch = *std::max_element(batches.begin(), batches.end());
  if (*std::min_element(batches.begin(), batches.end()) < 1) throw Error("batch sizes must be >= 1");
  if (gen_tokens < 2) throw Error("the batch benchmark needs at least 2 generated tokens");
  EngineOptions eo;
  eo.max_seqs = max_batch;
  eo.ctx_size = prompt_tokens + gen_tokens + 1;
  eo.max_batch_tokens = std::max(512, max_batch);
  eo.max_queue = max_batch;
  ServingEngine engine(model, eo);
  const int64_t n_vocab = model.config().n_vocab;
  std::vector<BatchPoint> points;
  int salt = 0;
  for (int batch : batches) {
    std::vector<double> prefill, decode;
    for (int rep = 0; rep <= repeats; ++rep) {
      std::vector<std::vector<int32_t>> prompts;
      for (int i = 0; i < batch; ++i) prompts.push_back(synthetic_prompt(n_vocab, prompt_tokens, ++salt));
      const Timing pf = run_requests(engine, prompts, 1);
      prompts.clear();
      for (int i = 0; i < batch; ++i) prompts.push_back(synthetic_prompt(n_vocab, prompt_tokens, ++salt));
      const Timing tg = run_requests(engine, prompts, gen_tokens);
      if (rep == 0) continue;  // warm-up
      prefill.push_back(batch * prompt_tokens / pf.all_done);
      // Decode rate once every sequence is generating: the remaining gen_tokens - 1 tokens each.
      decode.push_back(batch * (gen_tokens - 1) / (tg.all_done - tg.all_first_token));
    }
    points.push_back({batch, median(prefill), median(decode)});
  }
  return points;
}

}  // namespace anychip::engine
