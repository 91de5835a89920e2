#pragma once
// Decides what each engine step computes, under a token budget: first one token for every
// running sequence that is decoding, then chunks of prompts still being prefilled, then new
// sequences from the waiting queue in arrival order. A long prompt is split across steps, so it
// never stalls the streams of others. When the KV pool runs out of blocks, the most recently
// admitted sequence is preempted: its blocks are freed and it waits to be recomputed (its
// published blocks usually survive in the prefix cache).
#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_map>
#include <vector>

#include "engine/kv_block_manager.h"
#include "engine/sequence.h"

namespace anychip::engine {

struct ScheduledChunk {
  Sequence* seq = nullptr;
  int64_t n_tokens = 0;      // tokens from seq->n_computed on
  bool wants_logits = false;  // the chunk reaches the sequence's last token: sample next
};

struct SchedulerLimits {
  int max_seqs = 16;
  int max_batch_tokens = 256;
};

struct SchedulerCounters {
  uint64_t preemptions = 0;
  uint64_t prefix_query_tokens = 0;
  uint64_t prefix_hit_tokens = 0;
};

class Scheduler {
 public:
  Scheduler(KvBlockManager& blocks, const SchedulerLimits& limits);

  void add(std::unique_ptr<Sequence> seq);
  // Reserves cache blocks for the chunks it returns.
  std::vector<ScheduledChunk> schedule();
  // Marks the chunks' tokens computed and publishes newly completed blocks for prefix reuse.
  void computed(const std::vector<ScheduledChunk>& chunks);
  // Takes a sequence out (finished or cancelled), freeing its blocks; null for unknown ids.
  std::unique_ptr<Sequence> remove(uint64_t id);
  // Takes every sequence out (shutdown).
  std::vector<std::unique_ptr<Sequence>> remove_all();

  bool has_work() const { return !running_.empty() || !waiting_.empty(); }
  int running() const { return static_cast<int>(running_.size()); }
  int waiting() const { return static_cast<int>(waiting_.size()); }
  const SchedulerCounters& counters() const { return counters_; }

 private:
  bool reserve_blocks(Sequence& seq, int64_t n_positions);
  void preempt(Sequence* victim);
  bool admit(Sequence& seq, int64_t budget, ScheduledChunk& chunk);

  KvBlockManager& blocks_;
  SchedulerLimits limits_;
  std::unordered_map<uint64_t, std::unique_ptr<Sequence>> all_;
  std::vector<Sequence*> running_;  // in admission order
  std::deque<Sequence*> waiting_;   // arrival order; preempted sequences go back to the front
  SchedulerCounters counters_;
};

}  // namespace anychip::engine
