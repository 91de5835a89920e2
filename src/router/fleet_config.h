#pragma once
// `anychip route --config fleet.yaml`: the static part of a fleet in a small YAML subset,
//
//   policy: cost-slo            # optional: round-robin, least-load, cost-slo
//   port: 8080                  # optional; host, slo_ttft_ms, slo_tpot_ms likewise
//   workers:
//     - http://10.0.0.5:8080    # a plain OpenAI-compatible worker
//     - url: http://10.0.0.6:8080
//       price_per_hour: 0.4
//       profile_json: big.json  # `anychip bench --batch 1,8,16 --json` output (relative to the file)
//
// that is: top-level `key: value` lines, one `workers:` list of URLs or of maps, `#` comments.
// Anything else (anchors, flow collections, multi-line strings) is refused with the line number,
// rather than half-understood.
#include <optional>
#include <string>
#include <vector>

#include "router/fleet.h"

namespace anychip::router {

struct FleetConfig {
  std::optional<std::string> policy;
  std::optional<std::string> host;
  std::optional<int> port;
  std::optional<double> slo_ttft_ms;
  std::optional<double> slo_tpot_ms;
  std::vector<WorkerReport> workers;
};

// Throws anychip::Error as "FILE:LINE: what is wrong".
FleetConfig parse_fleet_config(const std::string& text, const std::string& file_name, const std::string& base_dir);
FleetConfig load_fleet_config(const std::string& path);

}  // namespace anychip::router
