#pragma once
// The list of requests a run sends: when each leaves, its prompt, its length, and whether the
// client abandons it mid-stream.
#include <cstdint>
#include <optional>
#include <vector>

#include "loadgen/runner.h"
#include "loadgen/trace.h"

namespace anychip::loadgen {

struct PlanOptions {
  size_t requests = 0;
  int prompt_tokens = 128;
  int gen_tokens = 128;
  std::optional<double> rate;       // Poisson arrivals at this many req/s; none: all ready at 0
  std::vector<TraceRequest> trace;  // when set: its arrivals and lengths, `requests` rows at most
  uint64_t seed = 0;
  size_t disconnect = 0;  // how many requests to abandon, spread evenly over the run
  int shared_prefix_tokens = 0;  // a common prefix (system prompt) of about this many tokens
};

std::vector<PlannedRequest> make_plan(const PlanOptions& o);

}  // namespace anychip::loadgen
