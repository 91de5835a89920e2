#include "loadgen/schedule.h"

#include <random>

namespace anychip::loadgen {

std::vector<double> poisson_arrivals(size_t n, double rate, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::exponential_distribution<double> gap(rate);
  std::vector<double> out;
  out.reserve(n);
  double t = 0;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(t);
    t += gap(rng);
  }
  return out;
}

std::vector<double> immediate_arrivals(size_t n) { return std::vector<double>(n, 0.0); }

}  // namespace anychip::loadgen
