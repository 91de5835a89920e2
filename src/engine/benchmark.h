#pragma once
// Prompt-processing and generation speed of a model on its device, measured the way the
// llama.cpp peer script measures it (same synthetic prompt ids, greedy decode), with the
// generation's achieved weight-read bandwidth against the device's measured roofline.
#include <functional>
#include <vector>

#include "model/model.h"

namespace anychip::engine {

struct BenchOptions {
  int prompt_tokens = 128;
  int gen_tokens = 64;
  int repeats = 3;  // measured runs after one warm-up
  // Called as each phase starts.
  enum class Phase { WarmUp, Prompt, Generation, Probe };
  std::function<void(Phase)> on_phase;
  // The device's read bandwidth in GB/s (Device::measure_read_bandwidth_gbs). When set, it is
  // measured right before and right after each measured generation run, and that run is judged
  // against the higher of the two: a host whose bandwidth other tenants take and give back
  // within seconds then still gives each run the bandwidth it had.
  std::function<double()> probe_read_gbs;
};

struct BenchResult {
  std::vector<double> pp_runs, tg_runs;  // tokens/s of each measured run
  double pp_tok_s = 0, tg_tok_s = 0;     // medians
  double weight_bytes_per_token = 0;
  double gen_bandwidth_gbs = 0;          // weight bytes per token x generation tokens/s
  double machine_bandwidth_gbs = 0;      // measured read bandwidth of the device
  double roofline_frac = 0;              // gen_bandwidth / machine_bandwidth
  // With BenchOptions::probe_read_gbs: per measured run, the bandwidth it is judged against and
  // its weight bandwidth over that; machine_bandwidth_gbs and roofline_frac are their medians.
  std::vector<double> probe_runs_gbs, roofline_runs;
};

// Fills everything but the roofline fields, unless options.probe_read_gbs is set.
BenchResult run_benchmark(model::Model& model, const BenchOptions& options);

}  // namespace anychip::engine
