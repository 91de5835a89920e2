#pragma once
// Sends planned requests at their arrival times, each on its own thread, optionally capping the
// number in flight, and collects their outcomes.
#include <functional>
#include <vector>

#include "loadgen/client.h"
#include "loadgen/outcome.h"

namespace anychip::loadgen {

struct PlannedRequest {
  double arrival = 0;  // seconds from the start of the run
  RequestSpec spec;
};

// Sends one request; `run_start` is the clock origin for the outcome's times.
using Sender = std::function<RequestOutcome(const RequestSpec&, Clock::time_point run_start)>;

struct RunResult {
  std::vector<RequestOutcome> outcomes;  // in plan order
  double duration = 0;                   // first send to the end of the last request, seconds
  size_t peak_in_flight = 0;
};

// `max_in_flight` 0: no cap (open loop). A request whose arrival time has passed while the cap
// was reached leaves as soon as a slot frees, so a closed loop is "all arrivals at 0, cap N".
RunResult run_plan(const std::vector<PlannedRequest>& plan, size_t max_in_flight, const Sender& send);

}  // namespace anychip::loadgen
