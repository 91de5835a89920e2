#pragma once
// How each worker's real latencies compare with what cost-slo predicted for it: the ratios
// observed / predicted of TTFT and of TPOT of its recent streamed answers. A profile is measured
// on an idle worker; under traffic (prefills interleaved with decoding, neighbours on the same
// machine) the worker is slower, by an amount that changes with time. cost-slo multiplies its
// predictions by the 90th percentile of the recent ratios: it plans for what nine requests in ten
// see, not for the median, which would leave half of them over the SLO. Samples older than the
// window are forgotten, so a worker judged slow is tried again once it has cooled down.
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "router/fleet.h"

namespace anychip::router {

struct LatencyScale {
  double ttft = 1;
  double tpot = 1;
};

class LatencyCalibration {
 public:
  static constexpr size_t kMinSamples = 4;   // fewer: no correction yet
  static constexpr double kPercentile = 0.9;

  explicit LatencyCalibration(std::chrono::seconds window = std::chrono::seconds(60), size_t max_samples = 64)
      : window_(window), max_samples_(max_samples) {}

  // One answer: the predicted and observed TTFT, and TPOT when it generated more than one token.
  void observe(const std::string& worker, double predicted_ttft_ms, double ttft_ms, double predicted_tpot_ms,
               std::optional<double> tpot_ms, Clock::time_point now);
  LatencyScale scale(const std::string& worker, Clock::time_point now) const;

 private:
  struct Sample {
    Clock::time_point at;
    double ratio;
  };
  struct Samples {
    std::deque<Sample> ttft, tpot;
  };
  void add(std::deque<Sample>& d, double ratio, Clock::time_point now);
  double percentile(const std::deque<Sample>& d, Clock::time_point now) const;

  std::chrono::seconds window_;
  size_t max_samples_;
  mutable std::mutex mu_;
  std::map<std::string, Samples> workers_;
};

}  // namespace anychip::router
