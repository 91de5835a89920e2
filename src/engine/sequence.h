#pragma once
// One request's state inside the serving engine: its tokens so far, how many of them have keys and
// values in the paged cache, the blocks holding them, and its sampling/detokenizing state.
#include <chrono>
#include <cstdint>
#include <vector>

#include "engine/sampler.h"
#include "engine/serving_engine.h"
#include "engine/stop_matcher.h"
#include "tokenizer/utf8_stream.h"

namespace anychip::engine {

struct Sequence {
  Sequence(uint64_t id, std::vector<int32_t> prompt, const RequestOptions& options, OutputHandler handler)
      : id(id),
        tokens(std::move(prompt)),
        prompt_len(static_cast<int64_t>(tokens.size())),
        options(options),
        sampler(options.sampling),
        stops(options.stop),
        handler(std::move(handler)) {}

  uint64_t id;
  std::vector<int32_t> tokens;  // prompt, then generated tokens
  int64_t prompt_len;
  RequestOptions options;
  Sampler sampler;
  Utf8Stream utf8;
  StopMatcher stops;
  OutputHandler handler;

  // Paged-cache state; reset when the sequence is preempted (it is recomputed later).
  int64_t n_computed = 0;        // leading tokens whose keys/values are in `blocks`
  std::vector<int32_t> blocks;   // block table
  int64_t n_published = 0;       // leading blocks offered to the prefix cache
  uint64_t published_hash = 0;   // chained hash after those blocks
  bool admitted_once = false;

  int completion_tokens = 0;
  int cached_prompt_tokens = 0;  // from the prefix cache at first admission

  int64_t pending() const { return static_cast<int64_t>(tokens.size()) - n_computed; }
};

}  // namespace anychip::engine
