#include "router/router_metrics.h"

#include "server/prometheus.h"

namespace anychip::router {

using server::prometheus_label_value;

void RouterMetrics::count_request(int status) {
  std::lock_guard lock(mu_);
  ++requests_by_code_[status];
}

std::string RouterMetrics::render(const std::vector<WorkerStats>& workers, int healthy, const FleetTotals& totals) const {
  server::PrometheusWriter w;
  w.header("anychip_router_http_requests_total", "counter", "HTTP requests the router answered, by status code.");
  {
    std::lock_guard lock(mu_);
    for (const auto& [code, n] : requests_by_code_) {
      w.sample("anychip_router_http_requests_total", static_cast<double>(n), "code=\"" + std::to_string(code) + "\"");
    }
  }
  w.scalar("anychip_router_retries_total", "counter", "Requests sent again to another worker after a failure.",
           static_cast<double>(retries_.load()));
  w.scalar("anychip_router_broken_streams_total", "counter",
           "Streams ended with an error event because their worker failed mid-stream.",
           static_cast<double>(broken_streams_.load()));
  w.scalar("anychip_router_workers", "gauge", "Workers known to the router.", static_cast<double>(workers.size()));
  w.scalar("anychip_router_workers_healthy", "gauge", "Workers taking requests (healthy, breaker closed).", healthy);
  w.scalar("anychip_router_generated_tokens_total", "counter",
           "Tokens generated in the answers the router forwarded (usage, else one per streamed chunk).",
           static_cast<double>(totals.generated_tokens));
  w.scalar("anychip_router_cost_total", "counter",
           "Price per hour times the time workers were busy with the router's requests, all workers ever known.",
           totals.cost);

  // One family at a time, as the exposition format requires.
  const auto family = [&](const std::string& name, const std::string& type, const std::string& help, auto value) {
    w.header(name, type, help);
    for (const WorkerStats& s : workers) {
      w.sample(name, static_cast<double>(value(s)), "worker=\"" + prometheus_label_value(s.id) + "\"");
    }
  };
  family("anychip_router_worker_requests_total", "counter", "Requests sent to the worker.",
         [](const WorkerStats& s) { return s.requests; });
  family("anychip_router_worker_failures_total", "counter", "Requests the worker failed (refused, 5xx, dropped).",
         [](const WorkerStats& s) { return s.failures; });
  family("anychip_router_worker_in_flight", "gauge", "Requests open on the worker now.",
         [](const WorkerStats& s) { return s.in_flight; });
  family("anychip_router_worker_healthy", "gauge", "1 when the worker passes health checks or heartbeats.",
         [](const WorkerStats& s) { return s.healthy ? 1 : 0; });
  family("anychip_router_worker_breaker_open", "gauge", "1 while the worker's circuit breaker is open.",
         [](const WorkerStats& s) { return s.breaker_open ? 1 : 0; });
  family("anychip_router_worker_running", "gauge", "Running requests the worker reported (joined workers).",
         [](const WorkerStats& s) { return s.running; });
  family("anychip_router_worker_waiting", "gauge", "Waiting requests the worker reported (joined workers).",
         [](const WorkerStats& s) { return s.waiting; });
  family("anychip_router_worker_kv_cache_usage_ratio", "gauge", "KV cache blocks in use over the pool (joined workers).",
         [](const WorkerStats& s) {
           return s.kv_blocks_total > 0 ? static_cast<double>(s.kv_blocks_used) / static_cast<double>(s.kv_blocks_total)
                                        : 0.0;
         });
  family("anychip_router_worker_price_per_hour", "gauge", "The worker's advertised price per hour.",
         [](const WorkerStats& s) { return s.price_per_hour; });
  family("anychip_router_worker_generated_tokens_total", "counter", "Tokens generated in the answers forwarded from it.",
         [](const WorkerStats& s) { return s.generated_tokens; });
  family("anychip_router_worker_busy_seconds_total", "counter",
         "Seconds with at least one of the router's requests open on it.", [](const WorkerStats& s) { return s.busy_seconds; });
  family("anychip_router_worker_cost_total", "counter", "Its price per hour over its busy time.",
         [](const WorkerStats& s) { return s.cost; });
  return w.str();
}

}  // namespace anychip::router
