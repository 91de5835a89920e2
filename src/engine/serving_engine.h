#pragma once
// The serving engine: many concurrent requests on one model, run by a background loop in the
// vLLM V1 shape (schedule -> execute -> update, every step). A token-budget scheduler mixes one
// decode token per running sequence with chunks of new prompts; the batch runs as one forward
// pass over a paged KV cache with prefix caching.
//
// Threading: submit/cancel/stats may be called from any thread. Output handlers run on the
// engine's loop thread, in order, once per step in which the request produced something; they
// must be quick (hand the data to another thread); of the engine's methods they may call only
// cancel().
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/generator.h"
#include "engine/sampler.h"
#include "model/model.h"
#include "util/error.h"

namespace anychip::engine {

// The request cannot be admitted now (all queue slots taken); the server answers 429.
class QueueFullError : public Error {
 public:
  using Error::Error;
};

// The request is invalid for this engine (e.g. prompt + max_tokens over the context); `param`
// names the offending field for an OpenAI-style error body.
class RequestError : public Error {
 public:
  RequestError(std::string param, const std::string& message) : Error(message), param_(std::move(param)) {}
  const std::string& param() const { return param_; }

 private:
  std::string param_;
};

struct RequestOptions {
  int max_tokens = 16;             // generated tokens at most (>= 1)
  SamplingParams sampling;         // temperature <= 0 is greedy
  std::vector<std::string> stop;   // generation ends before the first of these in the text
  bool ignore_eos = false;         // keep generating past end-of-generation tokens (benchmarks)
};

// What one step produced for a request.
struct RequestOutput {
  std::string text;                 // new printable text (may be empty; never part of a stop string)
  std::vector<int32_t> tokens;      // tokens generated in this step
  bool finished = false;            // last output for this request
  FinishReason finish = FinishReason::Length;  // valid when finished
  int prompt_tokens = 0;            // exact counts so far
  int completion_tokens = 0;
  int cached_prompt_tokens = 0;     // prompt tokens whose KV came from the prefix cache
  std::string error;                // non-empty: the request failed (finished is true)
};

using OutputHandler = std::function<void(const RequestOutput&)>;

struct EngineOptions {
  int max_seqs = 16;                 // sequences decoding at once
  int64_t ctx_size = 0;              // tokens per sequence (prompt + generated), at most the model's
                                     // training context; 0: that context, capped at 4096
  uint64_t kv_memory_bytes = 0;      // KV pool size, allocated up front; 0: max_seqs full contexts,
                                     // capped at 1 GiB (but at least one full context)
  int block_size = 16;               // tokens per KV block
  int max_batch_tokens = 256;        // tokens per forward pass (decode + prefill chunks)
  int max_queue = 256;               // waiting requests before submit throws QueueFullError
};

struct EngineStats {
  int running = 0;                   // sequences with KV in the pool
  int waiting = 0;                   // queued (including preempted) requests
  int64_t kv_blocks_total = 0;
  int64_t kv_blocks_used = 0;        // held by live sequences
  int64_t kv_blocks_cached = 0;      // free but still holding reusable prefix KV
  uint64_t prefix_query_tokens = 0;  // prompt tokens looked up in the prefix cache
  uint64_t prefix_hit_tokens = 0;    // of which found
  uint64_t prompt_tokens = 0;        // totals since start
  uint64_t generated_tokens = 0;
  uint64_t preemptions = 0;
  uint64_t steps = 0;
};

class ServingEngine {
 public:
  // Starts the loop thread. Throws anychip::Error when the options do not fit the model/device.
  ServingEngine(model::Model& model, const EngineOptions& options);
  // Stops the loop; requests still in flight get a final output with an error.
  ~ServingEngine();
  ServingEngine(const ServingEngine&) = delete;
  ServingEngine& operator=(const ServingEngine&) = delete;

  // Queues a request and returns its id. Throws RequestError for invalid requests (empty prompt,
  // token ids out of range, prompt + max_tokens over ctx_size, bad sampling values) and
  // QueueFullError when max_queue requests are already waiting.
  uint64_t submit(std::vector<int32_t> prompt, const RequestOptions& options, OutputHandler on_output);
  // Ends a request: its sequence is freed within one step and its handler gets a final output
  // with FinishReason::Cancelled (unless it had already finished). Unknown ids are ignored.
  void cancel(uint64_t id);

  EngineStats stats() const;
  const EngineOptions& options() const;
  model::Model& model() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace anychip::engine
