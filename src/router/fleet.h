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

// How the router learnt of a worker. One worker may be known several ways at once (joined here
// and listed in etcd); it stays while any of them holds.
struct WorkerSources {
  bool configured = false;   // --worker / --config: health-checked, never dropped
  bool joined_here = false;  // registered with this router, kept by its heartbeats
  bool shared = false;       // listed in the etcd fleet (another router's, or this one's own)
};

// Per-worker counters and state for /metrics and the dashboard.
struct WorkerStats {
  std::string id;
  WorkerSources sources;
  std::string device;
  std::vector<std::string> models;
  bool healthy = false;
  bool breaker_open = false;
  int in_flight = 0;
  uint64_t requests = 0;
  uint64_t failures = 0;
  int running = 0, waiting = 0;
  int64_t kv_blocks_used = 0, kv_blocks_total = 0;
  double price_per_hour = 0;
  PerfProfile profile;
  uint64_t generated_tokens = 0;  // in the answers this router forwarded from it
  double busy_seconds = 0;        // time with at least one of this router's requests open on it
  double cost = 0;                // price_per_hour over that busy time
};

// Fleet-wide totals that outlive the workers they came from.
struct FleetTotals {
  uint64_t generated_tokens = 0;
  double cost = 0;
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
  // False when the worker has not registered with this router (it restarted, or the worker is
  // known only from etcd): it should register again.
  bool heartbeat(const std::string& url, const LiveLoad& load, Clock::time_point now);

  // The etcd fleet view: a worker some router published (this one included). Its registration
  // and load are taken unless it is joined here, whose own heartbeats are at least as fresh.
  void merge_shared(const WorkerReport& report, const LiveLoad& load);
  // Its key is gone from etcd (lease expired: no router heard from it within the TTL).
  void drop_shared(const std::string& url);
  // A full listing: exactly these are shared now (after a reconnect, events may have been missed).
  void replace_shared(const std::vector<std::pair<WorkerReport, LiveLoad>>& listed);

  // The health checker's verdicts. models: what /v1/models listed (empty: leave as is).
  void health_result(const std::string& url, bool ok, const std::vector<std::string>& models);
  // Ends the membership of joined workers whose heartbeats stopped; returns the ids that left the
  // fleet (a worker still listed in etcd stays: another router hears from it).
  std::vector<std::string> expire(Clock::time_point now);

  // Static workers (the health checker's list).
  std::vector<std::string> static_urls() const;

  // Snapshots in a stable order (by id); a worker's index is its position here.
  std::vector<WorkerSnapshot> snapshot(Clock::time_point now) const;

  // A request went to / came back from a worker. ok == false counts towards its breaker.
  void begin_request(const std::string& url, Clock::time_point now);
  void end_request(const std::string& url, bool ok, Clock::time_point now);
  // Tokens a worker generated in one answer the router forwarded.
  void add_generated_tokens(const std::string& url, uint64_t tokens);

  std::vector<WorkerStats> stats(Clock::time_point now) const;
  // Including the workers that have left and, for busy ones, their cost up to `now`.
  FleetTotals totals(Clock::time_point now) const;
  int healthy_count(Clock::time_point now) const;

 private:
  struct Entry {
    WorkerReport report;
    WorkerSources sources;
    bool healthy = false;
    int failed_checks = 0;
    int failed_requests = 0;
    std::optional<Clock::time_point> breaker_until;
    Clock::time_point last_heartbeat{};
    LiveLoad load;
    int in_flight = 0;
    uint64_t requests = 0;
    uint64_t failures = 0;
    uint64_t generated_tokens = 0;
    double busy_seconds = 0;
    double cost = 0;
    Clock::time_point accrued_to{};  // busy time and cost are counted up to here
  };
  bool available(const Entry& e, Clock::time_point now) const;
  // Adds the busy time (and its cost) since the last call while requests are open on it.
  static void accrue(Entry& e, Clock::time_point now);
  // Keeps a leaving worker's tokens and cost in the totals (call just before erasing it).
  void retire(Entry& e, Clock::time_point now);

  FleetOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> workers_;
  FleetTotals departed_;  // from workers no longer in workers_
};

// "http://host:port" with no trailing slash; throws anychip::Error for anything else.
std::string normalize_worker_url(const std::string& url);

}  // namespace anychip::router
