#include "loadgen/plan.h"

#include <algorithm>

#include "loadgen/prompt.h"
#include "loadgen/schedule.h"

namespace anychip::loadgen {

std::vector<PlannedRequest> make_plan(const PlanOptions& o) {
  const bool traced = !o.trace.empty();
  const size_t n = traced ? std::min(o.requests == 0 ? o.trace.size() : o.requests, o.trace.size()) : o.requests;
  const std::vector<double> arrivals = traced  ? std::vector<double>{}
                                       : o.rate ? poisson_arrivals(n, *o.rate, o.seed)
                                                : immediate_arrivals(n);
  std::vector<PlannedRequest> plan(n);
  // Seeded apart from every request's own prompt.
  const std::string shared = o.shared_prefix_tokens > 0 ? synthetic_prompt(o.shared_prefix_tokens, ~o.seed) : "";
  for (size_t i = 0; i < n; ++i) {
    PlannedRequest& r = plan[i];
    r.arrival = traced ? o.trace[i].arrival_s : arrivals[i];
    // A trace row may ask for 0 tokens; servers refuse max_tokens 0 and an empty prompt.
    r.spec.prompt_tokens = std::max(1, traced ? o.trace[i].prompt_tokens : o.prompt_tokens);
    r.spec.gen_tokens = std::max(1, traced ? o.trace[i].gen_tokens : o.gen_tokens);
    r.spec.prompt = synthetic_prompt(r.spec.prompt_tokens, o.seed * 1000003 + i);
    if (o.shared_prefix_tokens > 0) r.spec.shared_prefix = shared;
    // Request i is abandoned when floor(i * d / n) steps up at i+1: exactly d of them, evenly spread.
    r.spec.disconnect = (i + 1) * o.disconnect / n > i * o.disconnect / n;
  }
  return plan;
}

}  // namespace anychip::loadgen
