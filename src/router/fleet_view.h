#pragma once
// GET /fleet: the fleet as JSON for the dashboard and for scripts, one object per worker with
// what it is (URL, how the router knows it, device, models, price, profile), how it is (health,
// breaker, load) and what it did (requests, tokens, busy time, cost), and the fleet's totals.
// Counters are cumulative: a poller derives rates from two readings and "time".
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "router/fleet.h"

namespace anychip::router {

struct FleetViewContext {
  std::string policy;
  double time_s = 0;     // wall clock (Unix seconds) of the reading
  double uptime_s = 0;
  std::string etcd;      // the etcd endpoint and prefix when shared, else empty
  int healthy = 0;
};

nlohmann::ordered_json fleet_view(const std::vector<WorkerStats>& workers, const FleetTotals& totals,
                                  const FleetViewContext& context);

}  // namespace anychip::router
