#pragma once
// The JSON bodies of the fleet routes that `anychip serve --join` calls:
//   POST /v1/fleet/register  {"url", "models":[..], "device", "price_per_hour", "max_seqs",
//                             "kv_blocks_total", "profile":[{"batch","prefill_tok_s","decode_tok_s"}]}
//   POST /v1/fleet/heartbeat {"url", "running", "waiting", "kv_blocks_used"}
// "profile" is the array `anychip bench --batch 1,8,16 --json` prints. Bad bodies throw
// server::ApiError (400) naming the field.
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <utility>

#include "router/fleet.h"

namespace anychip::router {

WorkerReport parse_registration(const std::string& body);
std::string parse_heartbeat(const std::string& body, LiveLoad& load);  // returns the url

// A joined worker as routers share it in etcd: the registration body with the load of its last
// heartbeat ("running", "waiting", "kv_blocks_used") beside it. parse_worker_record throws
// ApiError like the bodies above.
std::string worker_record(const WorkerReport& report, const LiveLoad& load);
std::pair<WorkerReport, LiveLoad> parse_worker_record(const std::string& text);

// The bench profile array -> PerfProfile (has == false for an empty array). Throws ApiError.
PerfProfile parse_profile(const nlohmann::json& points);

}  // namespace anychip::router
