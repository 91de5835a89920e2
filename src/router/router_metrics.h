#pragma once
// The router's Prometheus text: fleet totals (requests by status, retries, streams broken by a
// worker, workers healthy, tokens generated and what they cost) and per-worker series labelled
// worker="http://host:port". Cost is the workers' price per hour over the time they were busy
// with this router's requests: divided by the tokens, the price of a million tokens.
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "router/fleet.h"

namespace anychip::router {

class RouterMetrics {
 public:
  void count_request(int status);
  void count_retry() { retries_.fetch_add(1); }
  void count_broken_stream() { broken_streams_.fetch_add(1); }

  std::string render(const std::vector<WorkerStats>& workers, int healthy, const FleetTotals& totals) const;

 private:
  mutable std::mutex mu_;
  std::map<int, uint64_t> requests_by_code_;
  std::atomic<uint64_t> retries_{0};
  std::atomic<uint64_t> broken_streams_{0};
};

}  // namespace anychip::router
