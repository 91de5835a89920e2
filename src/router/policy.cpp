#include "router/policy.h"

#include <algorithm>
#include <limits>

#include "util/error.h"

namespace anychip::router {
namespace {

bool eligible(const std::vector<WorkerSnapshot>& ws, const std::vector<int>& exclude, int i) {
  return ws[static_cast<size_t>(i)].available && std::find(exclude.begin(), exclude.end(), i) == exclude.end();
}

// The router's own count is current; the engine's (from heartbeats) also sees other routers'
// and direct clients' requests. The larger is the better guess.
int load_of(const WorkerSnapshot& w) { return std::max(w.in_flight, w.running + w.waiting); }

}  // namespace

Policy parse_policy(const std::string& name) {
  if (name == "round-robin") return Policy::round_robin;
  if (name == "least-load") return Policy::least_load;
  if (name == "cost-slo") return Policy::cost_slo;
  throw Error("unknown policy '" + name + "' (round-robin, least-load or cost-slo)");
}

std::string policy_name(Policy p) {
  switch (p) {
    case Policy::round_robin: return "round-robin";
    case Policy::least_load: return "least-load";
    case Policy::cost_slo: return "cost-slo";
  }
  return "?";
}

Prediction predict(const WorkerSnapshot& w, const RequestTraits& r) {
  const PerfProfile& p = w.profile;
  const int max_batch = std::max(1, w.max_seqs > 0 ? std::min(w.max_seqs, std::max(p.max_batch, 1)) : p.max_batch);
  const int load = load_of(w) + 1;  // with this request
  const int batch = std::min(load, max_batch);
  const int queued = std::max(0, load - max_batch);  // requests that wait for a free slot, ours included
  const double decode = std::max(p.decode_tok_s(batch), 1e-9);
  const double prefill = std::max(p.prefill_tok_s, 1e-9);
  const double prompt = std::max(r.prompt_tokens, 1);
  const auto cached = r.cached_tokens.find(w.id);
  const double uncached = std::max(1.0, prompt - (cached == r.cached_tokens.end() ? 0 : cached->second));
  const double tokens = std::max(r.max_tokens, 1);
  const double step_ms = 1000.0 * batch / decode;  // one token for each sequence in the batch
  const double prefill_ms = 1000.0 * uncached / prefill;
  Prediction out;
  out.tpot_ms = (step_ms + batch * prefill_ms / tokens) * w.tpot_scale;
  // Ours and the prompts queued ahead of it (their prefixes as cached as ours); a queued request
  // also waits for sequences to finish: about queued/max_batch replies of max_tokens at full batch.
  out.ttft_ms = (prefill_ms * (1 + queued) + step_ms) * w.ttft_scale;
  if (queued > 0) out.ttft_ms += out.tpot_ms * tokens * static_cast<double>(queued) / max_batch;
  // A worker slower than profiled is busy longer for the same work.
  out.cost = w.price_per_hour / 3600.0 * (uncached / prefill * w.ttft_scale + tokens / decode * w.tpot_scale);
  out.cost_per_mtok = out.cost / tokens * 1e6;
  return out;
}

int choose_round_robin(const std::vector<WorkerSnapshot>& ws, const std::vector<int>& exclude, uint64_t counter) {
  const size_t n = ws.size();
  for (size_t k = 0; k < n; ++k) {
    const int i = static_cast<int>((counter + k) % n);
    if (eligible(ws, exclude, i)) return i;
  }
  return -1;
}

int choose_least_load(const std::vector<WorkerSnapshot>& ws, const std::vector<int>& exclude) {
  int best = -1;
  for (int i = 0; i < static_cast<int>(ws.size()); ++i) {
    if (!eligible(ws, exclude, i)) continue;
    if (best < 0 || load_of(ws[static_cast<size_t>(i)]) < load_of(ws[static_cast<size_t>(best)])) best = i;
  }
  return best;
}

int choose_cost_slo(const std::vector<WorkerSnapshot>& ws, const std::vector<int>& exclude, const RequestTraits& r,
                    const Slo& slo) {
  int cheapest = -1, least_late = -1;
  double cheapest_cost = std::numeric_limits<double>::infinity();
  double least_lateness = std::numeric_limits<double>::infinity();
  std::vector<int> unprofiled;
  for (int i = 0; i < static_cast<int>(ws.size()); ++i) {
    if (!eligible(ws, exclude, i)) continue;
    const WorkerSnapshot& w = ws[static_cast<size_t>(i)];
    if (!w.profile.has) {
      unprofiled.push_back(i);
      continue;
    }
    const Prediction p = predict(w, r);
    // How far over the SLO it would be, in units of each target: 1.2 is 20% late.
    const double lateness = std::max(p.ttft_ms / slo.ttft_ms, p.tpot_ms / slo.tpot_ms);
    if (lateness < least_lateness) {
      least_lateness = lateness;
      least_late = i;
    }
    if (p.ttft_ms > slo.ttft_ms || p.tpot_ms > slo.tpot_ms) continue;
    // Equal costs: the less loaded one, so a cheap tier still spreads its load.
    if (p.cost < cheapest_cost ||
        (p.cost == cheapest_cost && load_of(w) < load_of(ws[static_cast<size_t>(cheapest)]))) {
      cheapest_cost = p.cost;
      cheapest = i;
    }
  }
  if (cheapest >= 0) return cheapest;
  if (!unprofiled.empty()) {
    // Without a profile nothing is predicted: the prefix cache, then the load, decide.
    int best = -1, best_cached = 0;
    for (int i : unprofiled) {
      const auto c = r.cached_tokens.find(ws[static_cast<size_t>(i)].id);
      if (c != r.cached_tokens.end() && c->second > best_cached) {
        best_cached = c->second;
        best = i;
      }
    }
    if (best >= 0) return best;
    std::vector<int> skip;
    for (int i = 0; i < static_cast<int>(ws.size()); ++i) {
      if (std::find(unprofiled.begin(), unprofiled.end(), i) == unprofiled.end()) skip.push_back(i);
    }
    return choose_least_load(ws, skip);
  }
  // Overloaded: the request will be late somewhere; where it is least late. (Not the lowest TTFT
  // alone, which may push a batch far past the TPOT target; not a queue behind a full batch, which
  // grows without bound while the other workers are only a little over.)
  return least_late;
}

}  // namespace anychip::router
