#pragma once
// The router's Prometheus text: fleet totals (requests by status, retries, streams broken by a
// worker, workers healthy) and per-worker series labelled worker="http://host:port".
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

  std::string render(const std::vector<WorkerStats>& workers, int healthy) const;

 private:
  mutable std::mutex mu_;
  std::map<int, uint64_t> requests_by_code_;
  std::atomic<uint64_t> retries_{0};
  std::atomic<uint64_t> broken_streams_{0};
};

}  // namespace anychip::router
