#include "router/latency_calibration.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace anychip::router {
namespace {

// A ratio this far off is a measurement accident (a clock jump, a 0 ms prediction), not a speed.
constexpr double kMinRatio = 0.05, kMaxRatio = 50;

}  // namespace

void LatencyCalibration::add(std::deque<Sample>& d, double ratio, Clock::time_point now) {
  if (!std::isfinite(ratio)) return;
  d.push_back({now, std::clamp(ratio, kMinRatio, kMaxRatio)});
  while (d.size() > max_samples_) d.pop_front();
}

void LatencyCalibration::observe(const std::string& worker, double predicted_ttft_ms, double ttft_ms,
                                 double predicted_tpot_ms, std::optional<double> tpot_ms, Clock::time_point now) {
  std::lock_guard lock(mu_);
  Samples& s = workers_[worker];
  if (predicted_ttft_ms > 0) add(s.ttft, ttft_ms / predicted_ttft_ms, now);
  if (tpot_ms && predicted_tpot_ms > 0) add(s.tpot, *tpot_ms / predicted_tpot_ms, now);
}

double LatencyCalibration::percentile(const std::deque<Sample>& d, Clock::time_point now) const {
  std::vector<double> recent;
  for (const Sample& s : d) {
    if (now - s.at <= window_) recent.push_back(s.ratio);
  }
  if (recent.size() < kMinSamples) return 1;
  const size_t k = std::min(recent.size() - 1, static_cast<size_t>(std::ceil(kPercentile * recent.size())) - 1);
  std::nth_element(recent.begin(), recent.begin() + static_cast<std::ptrdiff_t>(k), recent.end());
  return recent[k];
}

LatencyScale LatencyCalibration::scale(const std::string& worker, Clock::time_point now) const {
  std::lock_guard lock(mu_);
  auto it = workers_.find(worker);
  if (it == workers_.end()) return {};
  return {percentile(it->second.ttft, now), percentile(it->second.tpot, now)};
}

}  // namespace anychip::router
