#pragma once
// The fleet: every worker the router knows, with its health, circuit breaker and live counters.
// Thread-safe; the HTTP handlers, the health checker and registrations all go through it.
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "router/worker.h"

namespace anychip::router {

using Clock = std::chrono::steady_clock;

struct FleetOptions {
  int eject_after = 2;                          // failed health checks in a row
  int breaker_after = 3;                        // failed requests in a row open the breaker
  std::chrono::milliseconds breaker_open{5000}; // then no requests for this long (half-open after)
  std::chrono::milliseconds heartbeat_ttl{3000};  // a joined worker silent this long is dropped
};

// Everything a registration or heartbeat tells about a worker.
struct WorkerReport {
  std::string url;
  std::vector<std::string> models;
  std::string device;
  double price_per_hour = 0;
  int max_seqs = 0;
  int64_t kv_blocks_total = 0;
  PerfProfile profile;
};

struct LiveLoad {
  int running = 0;
  int waiting = 0;
  int64_t kv_blocks_used = 0;
};

// Per-worker counters and state for /metrics.
struct WorkerStats {
  std::string id;
  bool joined = false;
  bool healthy = false;
  bool breaker_open = false;
  int in_flight = 0;
  uint64_t requests = 0;
  uint64_t failures = 0;
  int running = 0, waiting = 0;
  int64_t kv_blocks_used = 0, kv_blocks_total = 0;
  double price_per_hour = 0;
};

class Fleet {
 public:
  explicit Fleet(FleetOptions options = {}) : options_(options) {}

  // A worker from the command line: health-checked, never dropped. Starts unhealthy until its
  // first good check, so no request goes to a worker that was never seen up.
  void add_static(const std::string& url, double price_per_hour = 0);
  // The same from a --config entry, which may carry a price and a profile.
  void add_static(const WorkerReport& report);
  // `anychip serve --join`: registered workers are healthy while their heartbeats come.
  void register_worker(const WorkerReport& report, Clock::time_point now);
  // False when the worker is unknown (the router restarted): it should register again.
  bool heartbeat(const std::string& url, const LiveLoad& load, Clock::time_point now);

  // The health checker's verdicts. models: what /v1/models listed (empty: leave as is).
  void health_result(const std::string& url, bool ok, const std::vector<std::string>& models);
  // Drops joined workers whose heartbeats stopped. Returns the ids dropped.
  std::vector<std::string> expire(Clock::time_point now);

  // Static workers (the health checker's list).
  std::vector<std::string> static_urls() const;

  // Snapshots in a stable order (by id); a worker's index is its position here.
  std::vector<WorkerSnapshot> snapshot(Clock::time_point now) const;

  // A request went to / came back from a worker. ok == false counts towards its breaker.
  void begin_request(const std::string& url);
  void end_request(const std::string& url, bool ok, Clock::time_point now);

  std::vector<WorkerStats> stats(Clock::time_point now) const;
  int healthy_count(Clock::time_point now) const;

 private:
  struct Entry {
    WorkerReport report;
    bool joined = false;
    bool healthy = false;
    int failed_checks = 0;
    int failed_requests = 0;
    std::optional<Clock::time_point> breaker_until;
    Clock::time_point last_heartbeat{};
    LiveLoad load;
    int in_flight = 0;
    uint64_t requests = 0;
    uint64_t failures = 0;
  };
  bool available(const Entry& e, Clock::time_point now) const;

  FleetOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> workers_;
};

// "http://host:port" with no trailing slash; throws anychip::Error for anything else.
std::string normalize_worker_url(const std::string& url);

}  // namespace anychip::router
