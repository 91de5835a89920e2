#pragma once
// Polls every static worker's GET /health (and /v1/models, to learn what it serves) about once
// a second, feeding the verdicts to the fleet, and drops joined workers whose heartbeats stopped.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "router/fleet.h"

namespace anychip::router {

class HealthChecker {
 public:
  // api_key: sent to workers (as clients' keys are), so a worker sharing it lists its models.
  HealthChecker(Fleet& fleet, std::chrono::milliseconds interval, std::string api_key = "");
  ~HealthChecker();  // stops and joins
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  // One round now (the constructor runs one before returning, so a router that starts with
  // healthy workers serves at once).
  void check_all();

 private:
  void loop();

  Fleet& fleet_;
  std::chrono::milliseconds interval_;
  std::string api_key_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// GET url/health: true for 200. models: the ids url/v1/models lists (when reachable).
bool probe_worker(const std::string& url, const std::string& api_key, std::vector<std::string>& models);

}  // namespace anychip::router
