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
  enum class Phase { WarmUp, Prompt, Generation };
  std::function<void(Phase)> on_phase;
};

struct BenchResult {
  std::vector<double> pp_runs, tg_runs;  // tokens/s of each measured run
  double pp_tok_s = 0, tg_tok_s = 0;     // medians
  double weight_bytes_per_token = 0;
  double gen_bandwidth_gbs = 0;          // weight bytes per token x generation tokens/s
  double machine_bandwidth_gbs = 0;      // measured read bandwidth of the device
  double roofline_frac = 0;              // gen_bandwidth / machine_bandwidth
};

// Fills everything but the roofline fields.
BenchResult run_benchmark(model::Model& model, const BenchOptions& options);
// Measures the device's read bandwidth (allocating a large buffer; call it after anything whose
// memory use is being measured) and fills machine_bandwidth_gbs and roofline_frac.
void measure_roofline(backend::Device& device, BenchResult& r);

}  // namespace anychip::engine
