#include "router/fleet_history.h"

#include <algorithm>

namespace anychip::router {

FleetHistory::FleetHistory(const Fleet& fleet, std::chrono::milliseconds interval, size_t capacity)
    : fleet_(fleet), interval_(interval), capacity_(capacity) {
  if (interval_.count() > 0) thread_ = std::thread([this] { loop(); });
}

FleetHistory::~FleetHistory() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void FleetHistory::sample(Clock::time_point now, double unix_time) {
  Reading r;
  r.at = now;
  nlohmann::ordered_json in_flight = nlohmann::ordered_json::object();
  for (const WorkerStats& s : fleet_.stats(now)) {
    r.tokens[s.id] = s.generated_tokens;
    in_flight[s.id] = s.in_flight;
  }
  r.cost = fleet_.totals(now).cost;
  std::lock_guard lock(mu_);
  if (last_ && now > last_->at) {
    const double dt = std::chrono::duration<double>(now - last_->at).count();
    nlohmann::ordered_json tok_s = nlohmann::ordered_json::object();
    for (const auto& [id, tokens] : r.tokens) {
      auto before = last_->tokens.find(id);
      // A worker new since the last reading has no rate yet; counters never go back.
      if (before != last_->tokens.end()) tok_s[id] = tokens >= before->second ? static_cast<double>(tokens - before->second) / dt : 0.0;
    }
    points_.push_back({{"t", unix_time},
                       {"tok_s", std::move(tok_s)},
                       {"in_flight", std::move(in_flight)},
                       {"spend_per_hour", std::max(0.0, (r.cost - last_->cost) / dt * 3600.0)}});
    while (points_.size() > capacity_) points_.pop_front();
  }
  last_ = std::move(r);
}

nlohmann::ordered_json FleetHistory::series() const {
  std::lock_guard lock(mu_);
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& p : points_) out.push_back(p);
  return out;
}

void FleetHistory::loop() {
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, interval_, [this] { return stop_; })) {
    lock.unlock();
    const double unix_time =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    sample(Clock::now(), unix_time);
    lock.lock();
  }
}

}  // namespace anychip::router
