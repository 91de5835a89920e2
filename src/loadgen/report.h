#pragma once
// The run's metrics as one JSON object (--json) or as a table for people.
#include <iosfwd>
#include <nlohmann/json_fwd.hpp>

#include "loadgen/metrics.h"

namespace anychip::loadgen {

// Latency summaries are {mean,p50,p90,p99} in ms, or null with no sample; goodput_req_s and
// slo_attainment are null without an SLO. `run` (what was asked: mode, url, ...) is copied in
// under "config".
nlohmann::json metrics_json(const Metrics& m, size_t peak_in_flight, const nlohmann::json& run);

void print_table(std::ostream& out, const Metrics& m, size_t peak_in_flight);

}  // namespace anychip::loadgen
