#pragma once
// When each request is sent, as an offset in seconds from the start of the run.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace anychip::loadgen {

// Open loop: a Poisson process of `rate` requests/s, i.e. exponential inter-arrival times with
// mean 1/rate, drawn from `seed` so a run can be repeated. The first request leaves at 0.
std::vector<double> poisson_arrivals(size_t n, double rate, uint64_t seed);

// Closed loop: every request is ready at once; the runner's concurrency cap paces them, so each
// worker sends its next request as soon as its previous one ends.
std::vector<double> immediate_arrivals(size_t n);

}  // namespace anychip::loadgen
