#pragma once
// Run-level metrics from per-request outcomes, defined as vLLM's benchmark_serving.py defines
// them so numbers compare across tools:
//   TTFT  send -> first non-empty content chunk, per completed request
//   TPOT  (e2e - TTFT) / (output_tokens - 1), per completed request with more than one token
//   ITL   every gap between successive content chunks, pooled over requests
//   E2E   send -> end of reply
//   throughput = completed / duration; tokens/s over the same duration (failed requests add 0)
//   goodput    = completed requests meeting every given SLO / duration (a one-token reply's TPOT
//                counts as 0 against the TPOT SLO)
// Disconnected requests are neither completed nor failed, and are left out of every figure.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "loadgen/outcome.h"
#include "loadgen/stats.h"

namespace anychip::loadgen {

struct Slo {
  std::optional<double> ttft_ms, tpot_ms, e2e_ms;
  bool any() const { return ttft_ms || tpot_ms || e2e_ms; }
};

struct Metrics {
  size_t completed = 0, failed = 0, disconnected = 0;
  std::map<std::string, size_t> failure_reasons;  // reason -> count
  double duration_s = 0;
  int64_t total_input_tokens = 0, total_output_tokens = 0;
  double request_throughput = 0, output_tok_s = 0, total_tok_s = 0;
  std::optional<Summary> ttft_ms, tpot_ms, itl_ms, e2e_ms;  // none without a sample
  size_t good = 0;                                          // completed and meeting every SLO
  std::optional<double> goodput_req_s;                      // only with an SLO
  std::optional<double> slo_attainment;                     // good / (completed + failed)
};

Metrics compute_metrics(const std::vector<RequestOutcome>& outcomes, double duration_s, const Slo& slo);

}  // namespace anychip::loadgen
