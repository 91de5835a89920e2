#pragma once
// The server's Prometheus metrics, written by hand in the text exposition format (0.0.4):
// HTTP requests by status code, latency histograms observed by the HTTP layer, and gauges and
// counters read from the engine's stats at scrape time. All names start with anychip_.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/serving_engine.h"

namespace anychip::server {

// A cumulative histogram with fixed upper bounds (the +Inf bucket is implicit).
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  mutable std::mutex mu_;
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket (not cumulative), last is +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

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

// Prometheus number syntax: shortest round-trip decimal, +Inf, -Inf, NaN.
std::string prometheus_number(double v);
// Escapes a label value (backslash, double quote, newline).
std::string prometheus_label_value(const std::string& v);

}  // namespace anychip::server
