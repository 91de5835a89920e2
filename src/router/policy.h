#pragma once
// Worker selection policies: pure functions over worker snapshots, so they are tested without
// any network. Each returns the index of the chosen worker, or -1 when none is available.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "router/worker.h"

namespace anychip::router {

enum class Policy { round_robin, least_load, cost_slo };

// "round-robin", "least-load", "cost-slo"; throws anychip::Error for anything else.
Policy parse_policy(const std::string& name);
std::string policy_name(Policy p);

struct Slo {
  double ttft_ms = 2000;  // time to first token
  double tpot_ms = 200;   // time per output token
};

// What the policies know of a request before it is sent.
struct RequestTraits {
  int prompt_tokens = 0;                 // an estimate (characters / 4)
  int max_tokens = 256;
  std::optional<std::string> affinity;   // the worker that last served this prompt's prefix
};

struct Prediction {
  double ttft_ms = 0;
  double tpot_ms = 0;
  double cost_per_mtok = 0;  // price per million generated tokens at the predicted batch
};

// Latency and cost if `w` took one more request. Only meaningful when w.profile.has.
Prediction predict(const WorkerSnapshot& w, const RequestTraits& r);

// Among available workers not in `exclude` (indices already tried for this request).
int choose_round_robin(const std::vector<WorkerSnapshot>& ws, const std::vector<int>& exclude, uint64_t counter);
int choose_least_load(const std::vector<WorkerSnapshot>& ws, const std::vector<int>& exclude);
// Workers meeting the SLO, cheapest per token first; the affinity worker when it meets the SLO;
// workers without a profile after those with one (least load); nothing meets it: lowest TTFT.
int choose_cost_slo(const std::vector<WorkerSnapshot>& ws, const std::vector<int>& exclude, const RequestTraits& r,
                    const Slo& slo);

}  // namespace anychip::router
