#pragma once
// Summary statistics of one latency sample set, with percentiles interpolated linearly between
// the closest ranks (numpy.percentile's default), so figures compare with vLLM's benchmark.
#include <optional>
#include <vector>

namespace anychip::loadgen {

// p in [0, 100]; `sorted` ascending and non-empty.
double percentile(const std::vector<double>& sorted, double p);

struct Summary {
  size_t count = 0;
  double mean = 0, p50 = 0, p90 = 0, p99 = 0;
};

// Empty input gives no summary: a metric with no sample (ITL when every reply is one token)
// is reported as missing, not as zero.
std::optional<Summary> summarize(std::vector<double> values);

}  // namespace anychip::loadgen
