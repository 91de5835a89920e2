#include "router/fleet_view.h"

namespace anychip::router {
namespace {

using ojson = nlohmann::ordered_json;

ojson sources_of(const WorkerSources& s) {
  ojson out = ojson::array();
  if (s.configured) out.push_back("configured");
  if (s.joined_here) out.push_back("joined");
  if (s.shared) out.push_back("etcd");
  return out;
}

ojson profile_of(const PerfProfile& p) {
  if (!p.has) return nullptr;
  return {{"max_batch", p.max_batch},
          {"prefill_tok_s", p.prefill_tok_s},
          {"decode_tok_s_1", p.decode_tok_s_1},
          {"decode_tok_s_max", p.decode_tok_s_max}};
}

}  // namespace

ojson fleet_view(const std::vector<WorkerStats>& workers, const FleetTotals& totals, const FleetViewContext& context) {
  ojson list = ojson::array();
  uint64_t requests = 0;
  int in_flight = 0;
  for (const WorkerStats& s : workers) {
    requests += s.requests;
    in_flight += s.in_flight;
    list.push_back({{"id", s.id},
                    {"sources", sources_of(s.sources)},
                    {"device", s.device},
                    {"models", s.models},
                    {"price_per_hour", s.price_per_hour},
                    {"healthy", s.healthy},
                    {"breaker_open", s.breaker_open},
                    {"in_flight", s.in_flight},
                    {"running", s.running},
                    {"waiting", s.waiting},
                    {"kv_blocks_used", s.kv_blocks_used},
                    {"kv_blocks_total", s.kv_blocks_total},
                    {"requests", s.requests},
                    {"failures", s.failures},
                    {"generated_tokens", s.generated_tokens},
                    {"busy_seconds", s.busy_seconds},
                    {"cost", s.cost},
                    {"profile", profile_of(s.profile)}});
  }
  ojson out;
  out["policy"] = context.policy;
  out["time"] = context.time_s;
  out["uptime_s"] = context.uptime_s;
  out["etcd"] = context.etcd.empty() ? ojson(nullptr) : ojson(context.etcd);
  out["totals"] = {{"workers", workers.size()},
                   {"healthy_workers", context.healthy},
                   {"in_flight", in_flight},
                   {"requests", requests},
                   {"generated_tokens", totals.generated_tokens},
                   {"cost", totals.cost}};
  out["workers"] = std::move(list);
  return out;
}

}  // namespace anychip::router
