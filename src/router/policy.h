#pragma once
// Worker selection policies: pure functions over worker snapshots, so they are tested without
// any network. Each returns the index of the chosen worker, or -1 when none is available.
#include <cstdint>
#include <map>
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
  int prompt_tokens = 0;  // an estimate (characters / 4)
  int max_tokens = 256;
  // Worker -> the tokens of this prompt it likely holds in its prefix cache (it served a prompt
  // starting the same way: PrefixAffinity).
  std::map<std::string, int> cached_tokens;
};

struct Prediction {
  double ttft_ms = 0;
  double tpot_ms = 0;
  double cost = 0;           // $: the worker's price over the busy time this request takes
  double cost_per_mtok = 0;  // that cost per million of the request's generated tokens
};

// Latency and cost if `w` took one more request, from its profile (only meaningful when
// w.profile.has) and load:
//   batch  = its requests with this one, up to its max batch; the rest wait for a slot
//   TPOT   = batch / decode tok/s at that batch, plus the prefills of the requests that take the
//            slots of finishing ones (in a steady stream each slot turns over once per reply:
//            batch * uncached prompt / prefill tok/s spread over max_tokens steps)
//   TTFT   = the uncached part of the prompt (and of those queued ahead) over prefill tok/s,
//            plus one decode step, plus the wait for a free slot
//   cost   = price per hour * (uncached prompt / prefill tok/s + max_tokens / decode tok/s at
//            the batch): the worker's busy time this request accounts for, its prefix cache
//            making the prefill part cheaper as well as faster.
// TTFT and TPOT (and the prefill and decode parts of the cost) are then multiplied by the
// worker's ttft_scale and tpot_scale: how much slower than predicted it has recently been.
Prediction predict(const WorkerSnapshot& w, const RequestTraits& r);

// Among available workers not in `exclude` (indices already tried for this request).
int choose_round_robin(const std::vector<WorkerSnapshot>& ws, const std::vector<int>& exclude, uint64_t counter);
int choose_least_load(const std::vector<WorkerSnapshot>& ws, const std::vector<int>& exclude);
// Among the workers predicted to meet the SLO, the cheapest for this request (equal costs: the
// less loaded); workers without a profile after those with one (the one holding most of the
// prompt's prefix, else least load); when nothing meets it, the one predicted to miss it by the
// least (the largest of TTFT / its target and TPOT / its target).
int choose_cost_slo(const std::vector<WorkerSnapshot>& ws, const std::vector<int>& exclude, const RequestTraits& r,
                    const Slo& slo);

}  // namespace anychip::router
