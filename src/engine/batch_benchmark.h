#pragma once
// Throughput of the serving engine with several sequences at once: what continuous batching buys
// on this device. The same numbers make a worker's performance profile (prefill and decode
// tokens/s as a function of the batch size) for the fleet router.
#include <vector>

#include "engine/serving_engine.h"

namespace anychip::engine {

struct BatchPoint {
  int batch = 0;
  double prefill_tok_s = 0;  // prompt tokens/s with `batch` prompts submitted at once
  double decode_tok_s = 0;   // generated tokens/s summed over `batch` sequences decoding together
};

// For each batch size: `batch` prompts of prompt_tokens ids processed together (max_tokens 1),
// then `batch` sequences generating gen_tokens each (EOS ignored, greedy); median of repeats.
std::vector<BatchPoint> run_batch_benchmark(model::Model& model, const std::vector<int>& batches, int prompt_tokens,
                                            int gen_tokens, int repeats);

}  // namespace anychip::engine
