#pragma once
// The last minutes of the fleet as the dashboard charts them: once a second, each worker's
// generated tokens/s and requests in flight, and the fleet's spend rate. Kept in the router, so
// a dashboard opened now shows what happened before it.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "router/fleet.h"

namespace anychip::router {

class FleetHistory {
 public:
  FleetHistory(const Fleet& fleet, std::chrono::milliseconds interval, size_t capacity);
  ~FleetHistory();
  FleetHistory(const FleetHistory&) = delete;
  FleetHistory& operator=(const FleetHistory&) = delete;

  // [{"t": unix seconds, "tok_s": {worker: n}, "in_flight": {worker: n}, "spend_per_hour": $}], oldest first.
  nlohmann::ordered_json series() const;

  // One reading now (the thread calls it every interval; tests call it directly).
  void sample(Clock::time_point now, double unix_time);

 private:
  struct Reading {
    Clock::time_point at;
    std::map<std::string, uint64_t> tokens;
    double cost = 0;
  };
  void loop();

  const Fleet& fleet_;
  std::chrono::milliseconds interval_;
  size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::optional<Reading> last_;
  std::deque<nlohmann::ordered_json> points_;
  std::thread thread_;
};

}  // namespace anychip::router
