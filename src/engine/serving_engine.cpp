#include "engine/serving_engine.h"

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "engine/kv_block_manager.h"
#include "engine/scheduler.h"
#include "engine/sequence.h"

namespace anychip::engine {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// "top-p must be ..." -> "top_p": sampling errors name their parameter first.
std::string sampling_param(const std::string& message) {
  std::string word = message.substr(0, message.find(' '));
  std::replace(word.begin(), word.end(), '-', '_');
  return word;
}

}  // namespace

struct ServingEngine::Impl {
  Impl(model::Model& m, const EngineOptions& o);
  ~Impl();

  void loop();
  void step(std::vector<ScheduledChunk>& plan);
  void execute(const std::vector<ScheduledChunk>& plan);
  // Samples, detokenizes and reports every chunk that produced logits; finished sequences leave.
  void update(const std::vector<ScheduledChunk>& plan);
  void finish(std::unique_ptr<Sequence> seq, FinishReason reason, const std::string& error = {});
  void publish_stats();

  model::Model& model;
  EngineOptions options;
  int64_t max_blocks_per_seq;
  model::KvCache cache;
  KvBlockManager blocks;
  Scheduler scheduler;

  mutable std::mutex mutex;
  std::condition_variable wake;
  std::vector<std::unique_ptr<Sequence>> inbox;
  std::vector<uint64_t> cancels;
  int scheduler_waiting = 0;  // mirrored from the loop for admission control
  bool stopping = false;
  EngineStats stats;
  std::atomic<uint64_t> next_id{1};

  // Step buffers, reused.
  std::vector<int32_t> tokens, positions, cache_rows, row_seq, block_table, output_rows;
  std::vector<float> logits;
  // When every sequence sampling this step takes the argmax, the device finds it: one id per
  // sequence comes back instead of a row of vocabulary-many logits.
  std::vector<int32_t> argmax_ids;
  bool argmax_step = false;

  std::thread thread;
};

ServingEngine::Impl::Impl(model::Model& m, const EngineOptions& o)
    : model(m),
      options(o),
      max_blocks_per_seq(ceil_div(o.ctx_size, o.block_size)),
      cache(m.make_cache([&] {
        const uint64_t block_bytes = static_cast<uint64_t>(o.block_size) * m.kv_bytes_per_token();
        // Default: every sequence at full context, but at most 1 GiB (at least one full context);
        // beyond that, preemption shares the pool.
        const int64_t default_blocks = std::max(
            max_blocks_per_seq,
            std::min<int64_t>(o.max_seqs * max_blocks_per_seq, static_cast<int64_t>((uint64_t{1} << 30) / block_bytes)));
        const int64_t n_blocks = o.kv_memory_bytes > 0 ? static_cast<int64_t>(o.kv_memory_bytes / block_bytes) : default_blocks;
        if (n_blocks < 1) {
          throw Error("--kv-memory " + std::to_string(o.kv_memory_bytes) + " bytes is less than one KV block (" +
                      std::to_string(block_bytes) + " bytes of " + std::to_string(o.block_size) + " tokens)");
        }
        return n_blocks * o.block_size;
      }())),
      blocks(cache.n_ctx / o.block_size, o.block_size),
      scheduler(blocks, SchedulerLimits{o.max_seqs, o.max_batch_tokens}) {
  stats.kv_blocks_total = blocks.total_blocks();
  m.reserve(o.max_batch_tokens, o.max_seqs);
  logits.reserve(static_cast<size_t>(o.max_seqs * m.config().n_vocab));
  thread = std::thread([this] { loop(); });
}

ServingEngine::Impl::~Impl() {
  {
    std::lock_guard lock(mutex);
    stopping = true;
  }
  wake.notify_all();
  thread.join();
  for (auto& seq : scheduler.remove_all()) finish(std::move(seq), FinishReason::Cancelled, "the engine is shutting down");
  for (auto& seq : inbox) finish(std::move(seq), FinishReason::Cancelled, "the engine is shutting down");
}

void ServingEngine::Impl::loop() {
  std::vector<ScheduledChunk> plan;
  for (;;) {
    std::vector<std::unique_ptr<Sequence>> arrived;
    std::vector<uint64_t> cancelled;
    {
      std::unique_lock lock(mutex);
      const auto has_input = [&] { return stopping || !inbox.empty() || !cancels.empty() || scheduler.has_work(); };
      if (!has_input()) {
        // Going idle: hand memory freed by finished requests back to the system, so a server's
        // footprint returns to its idle level after a burst.
        lock.unlock();
        malloc_trim(0);
        lock.lock();
      }
      wake.wait(lock, has_input);
      if (stopping) return;
      arrived.swap(inbox);
      cancelled.swap(cancels);
      scheduler_waiting += static_cast<int>(arrived.size());  // still counted against max_queue
    }
    for (auto& seq : arrived) scheduler.add(std::move(seq));
    std::vector<std::unique_ptr<Sequence>> ended;
    for (uint64_t id : cancelled) {
      if (auto seq = scheduler.remove(id)) ended.push_back(std::move(seq));
    }
    if (!ended.empty()) {
      publish_stats();
      for (auto& seq : ended) finish(std::move(seq), FinishReason::Cancelled);
    }
    step(plan);
  }
}

void ServingEngine::Impl::step(std::vector<ScheduledChunk>& plan) {
  plan = scheduler.schedule();
  if (plan.empty()) {
    // Only possible while nothing can be admitted; wait briefly instead of spinning.
    publish_stats();
    std::unique_lock lock(mutex);
    wake.wait_for(lock, std::chrono::milliseconds(5), [&] { return stopping || !inbox.empty() || !cancels.empty(); });
    return;
  }
  try {
    execute(plan);
  } catch (const std::exception& e) {
    // A failed forward pass fails the requests in it, not the server.
    std::vector<std::unique_ptr<Sequence>> failed;
    for (const ScheduledChunk& c : plan) failed.push_back(scheduler.remove(c.seq->id));
    publish_stats();
    for (auto& seq : failed) finish(std::move(seq), FinishReason::Cancelled, e.what());
    return;
  }
  scheduler.computed(plan);
  update(plan);
}

void ServingEngine::Impl::execute(const std::vector<ScheduledChunk>& plan) {
  const int bs = options.block_size;
  tokens.clear();
  positions.clear();
  cache_rows.clear();
  row_seq.clear();
  output_rows.clear();
  block_table.assign(plan.size() * static_cast<size_t>(max_blocks_per_seq), 0);
  for (size_t i = 0; i < plan.size(); ++i) {
    const Sequence& seq = *plan[i].seq;
    std::copy(seq.blocks.begin(), seq.blocks.end(), block_table.begin() + static_cast<std::ptrdiff_t>(i * max_blocks_per_seq));
    for (int64_t j = 0; j < plan[i].n_tokens; ++j) {
      const int64_t pos = seq.n_computed + j;
      tokens.push_back(seq.tokens[static_cast<size_t>(pos)]);
      positions.push_back(static_cast<int32_t>(pos));
      cache_rows.push_back(seq.blocks[static_cast<size_t>(pos / bs)] * bs + static_cast<int32_t>(pos % bs));
      row_seq.push_back(static_cast<int32_t>(i));
    }
    if (plan[i].wants_logits) output_rows.push_back(static_cast<int32_t>(tokens.size() - 1));
  }
  model::ForwardBatch batch;
  batch.tokens = tokens;
  batch.positions = positions;
  batch.cache_rows = cache_rows;
  batch.pages = backend::KvPages{bs, static_cast<int>(max_blocks_per_seq), block_table, row_seq};
  batch.output_rows = output_rows;
  argmax_step = std::all_of(plan.begin(), plan.end(),
                            [](const ScheduledChunk& c) { return !c.wants_logits || c.seq->sampler.next_is_argmax(); });
  if (argmax_step) {
    model.forward_batch_argmax(batch, cache, argmax_ids);
  } else {
    model.forward_batch(batch, cache, logits);
  }
}

void ServingEngine::Impl::update(const std::vector<ScheduledChunk>& plan) {
  const Tokenizer& tok = model.tokenizer();
  const size_t n_vocab = static_cast<size_t>(model.config().n_vocab);
  size_t out_index = 0;
  std::vector<std::pair<Sequence*, RequestOutput>> outputs;
  for (const ScheduledChunk& c : plan) {
    if (!c.wants_logits) continue;
    Sequence& seq = *c.seq;
    const size_t out_row = out_index++;
    const int32_t id = argmax_step ? argmax_ids[out_row]
                                   : seq.sampler.sample(std::span<const float>(logits.data() + out_row * n_vocab, n_vocab));
    seq.sampler.accept(id);
    seq.tokens.push_back(id);
    ++seq.completion_tokens;

    RequestOutput out;
    out.tokens.push_back(id);
    bool finished = false;
    FinishReason reason = FinishReason::Length;
    if (!seq.options.ignore_eos && tok.vocab().is_eog(id)) {
      finished = true;
      reason = FinishReason::Eos;
    } else {
      out.text = seq.stops.push(seq.utf8.push(tok.token_to_piece(id)));
      if (seq.stops.stopped()) {
        finished = true;
        reason = FinishReason::Stop;
      }
    }
    if (!finished && seq.completion_tokens >= seq.options.max_tokens) finished = true;
    if (finished && !seq.stops.stopped()) out.text += seq.stops.push(seq.utf8.flush()) + seq.stops.flush();
    out.finished = finished;
    out.finish = reason;
    out.prompt_tokens = static_cast<int>(seq.prompt_len);
    out.completion_tokens = seq.completion_tokens;
    out.cached_prompt_tokens = seq.cached_prompt_tokens;
    outputs.push_back({&seq, std::move(out)});
  }
  // Finished sequences leave (freeing their blocks) and the stats are published before anyone
  // hears of it, so a client that got its answer never sees itself still counted as running.
  std::vector<std::unique_ptr<Sequence>> ended;
  for (auto& [seq, out] : outputs) {
    if (out.finished) ended.push_back(scheduler.remove(seq->id));
  }
  {
    std::lock_guard lock(mutex);
    stats.generated_tokens += out_index;
  }
  publish_stats();
  for (auto& [seq, out] : outputs) {
    try {
      seq->handler(out);
    } catch (...) {
      // A broken handler must not take the loop down; the request simply ends.
      if (!out.finished) {
        std::lock_guard lock(mutex);
        cancels.push_back(seq->id);
      }
    }
  }
}

void ServingEngine::Impl::finish(std::unique_ptr<Sequence> seq, FinishReason reason, const std::string& error) {
  if (!seq) return;
  RequestOutput out;
  out.finished = true;
  out.finish = reason;
  out.error = error;
  out.prompt_tokens = static_cast<int>(seq->prompt_len);
  out.completion_tokens = seq->completion_tokens;
  out.cached_prompt_tokens = seq->cached_prompt_tokens;
  try {
    seq->handler(out);
  } catch (...) {
  }
}

void ServingEngine::Impl::publish_stats() {
  std::lock_guard lock(mutex);
  scheduler_waiting = scheduler.waiting();
  stats.running = scheduler.running();
  stats.waiting = scheduler.waiting() + static_cast<int>(inbox.size());
  stats.kv_blocks_used = blocks.used_blocks();
  stats.kv_blocks_cached = blocks.cached_blocks();
  stats.prefix_query_tokens = scheduler.counters().prefix_query_tokens;
  stats.prefix_hit_tokens = scheduler.counters().prefix_hit_tokens;
  stats.preemptions = scheduler.counters().preemptions;
  ++stats.steps;
}

ServingEngine::ServingEngine(model::Model& model, const EngineOptions& options) {
  if (options.max_seqs < 1) throw Error("--max-seqs must be >= 1, got " + std::to_string(options.max_seqs));
  if (options.block_size < 1) throw Error("KV block size must be >= 1, got " + std::to_string(options.block_size));
  if (options.ctx_size < 0) throw Error("--ctx-size must be >= 0, got " + std::to_string(options.ctx_size));
  if (options.max_queue < 0) throw Error("--max-queue must be >= 0, got " + std::to_string(options.max_queue));
  const int64_t train = model.config().n_ctx_train;
  if (train > 0 && options.ctx_size > train) {
    throw Error("--ctx-size " + std::to_string(options.ctx_size) + " exceeds the model's training context of " +
                std::to_string(train) + " tokens");
  }
  EngineOptions o = options;
  if (o.ctx_size == 0) o.ctx_size = train > 0 ? std::min<int64_t>(train, 4096) : 4096;
  o.max_batch_tokens = std::max(o.max_batch_tokens, o.max_seqs);
  impl_ = std::make_unique<Impl>(model, o);
}

ServingEngine::~ServingEngine() = default;

uint64_t ServingEngine::submit(std::vector<int32_t> prompt, const RequestOptions& options, OutputHandler on_output) {
  Impl& e = *impl_;
  if (prompt.empty()) throw RequestError("prompt", "the prompt is empty (no tokens to start from)");
  const int64_t n_vocab = e.model.config().n_vocab;
  for (int32_t id : prompt) {
    if (id < 0 || id >= n_vocab) {
      throw RequestError("prompt", "token id " + std::to_string(id) + " is out of range [0, " + std::to_string(n_vocab) + ")");
    }
  }
  if (options.max_tokens < 1) {
    throw RequestError("max_tokens", "max_tokens must be >= 1, got " + std::to_string(options.max_tokens));
  }
  const int64_t n_prompt = static_cast<int64_t>(prompt.size());
  if (n_prompt >= e.options.ctx_size) {
    throw RequestError("messages", "the prompt has " + std::to_string(n_prompt) + " tokens; the context size is " +
                                       std::to_string(e.options.ctx_size));
  }
  if (n_prompt + options.max_tokens > e.options.ctx_size) {
    throw RequestError("max_tokens", "the prompt (" + std::to_string(n_prompt) + " tokens) plus max_tokens (" +
                                         std::to_string(options.max_tokens) + ") exceeds the context size " +
                                         std::to_string(e.options.ctx_size));
  }
  const int64_t blocks_needed = ceil_div(n_prompt + options.max_tokens, e.options.block_size);
  if (blocks_needed > e.blocks.total_blocks()) {
    throw RequestError("max_tokens", "the prompt plus max_tokens needs " + std::to_string(blocks_needed) +
                                         " KV blocks but the pool has " + std::to_string(e.blocks.total_blocks()) +
                                         " (raise --kv-memory)");
  }
  try {
    options.sampling.validate();
  } catch (const Error& err) {
    throw RequestError(sampling_param(err.what()), err.what());
  }
  const uint64_t id = e.next_id++;
  auto seq = std::make_unique<Sequence>(id, std::move(prompt), options, std::move(on_output));
  for (int32_t t : seq->tokens) seq->sampler.accept(t);
  {
    std::lock_guard lock(e.mutex);
    if (e.stopping) throw QueueFullError("the engine is shutting down");
    if (static_cast<int>(e.inbox.size()) + e.scheduler_waiting >= e.options.max_queue) {
      throw QueueFullError("the queue is full (" + std::to_string(e.options.max_queue) + " requests waiting)");
    }
    e.inbox.push_back(std::move(seq));
    e.stats.prompt_tokens += static_cast<uint64_t>(n_prompt);
    ++e.stats.waiting;
  }
  e.wake.notify_one();
  return id;
}

void ServingEngine::cancel(uint64_t id) {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->cancels.push_back(id);
  }
  impl_->wake.notify_one();
}

EngineStats ServingEngine::stats() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->stats;
}

const EngineOptions& ServingEngine::options() const { return impl_->options; }
model::Model& ServingEngine::model() const { return impl_->model; }

}  // namespace anychip::engine
