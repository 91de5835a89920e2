#pragma once
// The server's Prometheus metrics, written by hand in the text exposition format (0.0.4):
// HTTP requests by status code, latency histograms observed by the HTTP layer, and gauges and
// counters read from the engine's stats at scrape time. All names start with anychip_.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "engine/serving_engine.h"
#include "server/prometheus.h"

namespace anychip::server {

class ServerMetrics {
 public:
  ServerMetrics();

  void count_request(int status);
  void observe_time_to_first_token(double seconds) { ttft_.observe(seconds); }
  void observe_inter_token_latency(double seconds) { itl_.observe(seconds); }
  void observe_request_latency(double seconds) { e2e_.observe(seconds); }

  // The exposition text. stats: the engine's counters, absent while the model loads (then the
  // engine series read 0, so scrapers always see the same set of series).
  std::string render(const std::optional<engine::EngineStats>& stats) const;

 private:
  mutable std::mutex mu_;
  std::map<int, uint64_t> requests_by_code_;
  Histogram ttft_;
  Histogram itl_;
  Histogram e2e_;
};

}  // namespace anychip::server
