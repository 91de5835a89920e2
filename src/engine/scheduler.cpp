#include "engine/scheduler.h"

#include <algorithm>
#include <cassert>

namespace anychip::engine {

Scheduler::Scheduler(KvBlockManager& blocks, const SchedulerLimits& limits) : blocks_(blocks), limits_(limits) {
  assert(limits.max_seqs > 0 && limits.max_batch_tokens >= limits.max_seqs);
}

void Scheduler::add(std::unique_ptr<Sequence> seq) {
  waiting_.push_back(seq.get());
  all_.emplace(seq->id, std::move(seq));
}

bool Scheduler::reserve_blocks(Sequence& seq, int64_t n_positions) {
  const int64_t bs = blocks_.block_size();
  while (static_cast<int64_t>(seq.blocks.size()) * bs < n_positions) {
    const auto id = blocks_.allocate();
    if (!id) return false;
    seq.blocks.push_back(*id);
  }
  return true;
}

void Scheduler::preempt(Sequence* victim) {
  blocks_.release(victim->blocks);
  victim->blocks.clear();
  victim->n_computed = 0;
  victim->n_published = 0;
  victim->published_hash = KvBlockManager::kRootHash;
  running_.erase(std::find(running_.begin(), running_.end(), victim));
  waiting_.push_front(victim);
  ++counters_.preemptions;
}

bool Scheduler::admit(Sequence& seq, int64_t budget, ScheduledChunk& chunk) {
  // At least the last token is computed, so the step produces logits to sample from.
  KvBlockManager::Prefix prefix =
      blocks_.acquire_prefix(seq.tokens, static_cast<int64_t>(seq.tokens.size()) - 1);
  const int64_t cached = static_cast<int64_t>(prefix.blocks.size()) * blocks_.block_size();
  const int64_t n = std::min(static_cast<int64_t>(seq.tokens.size()) - cached, budget);
  const int64_t needed_blocks = (cached + n + blocks_.block_size() - 1) / blocks_.block_size();
  if (needed_blocks - static_cast<int64_t>(prefix.blocks.size()) > blocks_.available_blocks()) {
    blocks_.release(prefix.blocks);
    return false;
  }
  seq.blocks = std::move(prefix.blocks);
  seq.n_computed = cached;
  seq.n_published = static_cast<int64_t>(seq.blocks.size());
  seq.published_hash = prefix.hash;
  const bool reserved = reserve_blocks(seq, cached + n);
  assert(reserved);
  (void)reserved;
  if (!seq.admitted_once) {
    seq.admitted_once = true;
    seq.cached_prompt_tokens = static_cast<int>(std::min(cached, seq.prompt_len));
    counters_.prefix_query_tokens += static_cast<uint64_t>(seq.prompt_len);
    counters_.prefix_hit_tokens += static_cast<uint64_t>(seq.cached_prompt_tokens);
  }
  chunk = {&seq, n, seq.n_computed + n == static_cast<int64_t>(seq.tokens.size())};
  return true;
}

std::vector<ScheduledChunk> Scheduler::schedule() {
  std::vector<ScheduledChunk> plan;
  int64_t budget = limits_.max_batch_tokens;

  // Decoding sequences first: one token each, preempting the newest sequences for room.
  for (size_t i = 0; i < running_.size() && budget > 0; ++i) {
    Sequence* seq = running_[i];
    if (seq->pending() != 1) continue;
    bool preempted_self = false;
    while (!reserve_blocks(*seq, seq->n_computed + 1)) {
      Sequence* victim = running_.back();
      preempt(victim);
      if (victim == seq) {
        preempted_self = true;
        break;
      }
    }
    if (preempted_self) break;  // seq was the newest; nothing after it is running
    plan.push_back({seq, 1, true});
    --budget;
  }

  // Prompts already admitted but not finished.
  for (Sequence* seq : running_) {
    if (budget == 0) break;
    if (seq->pending() <= 1) continue;
    int64_t n = std::min(seq->pending(), budget);
    if (!reserve_blocks(*seq, seq->n_computed + n)) {
      n = static_cast<int64_t>(seq->blocks.size()) * blocks_.block_size() - seq->n_computed;
    }
    if (n <= 0) continue;
    plan.push_back({seq, n, seq->n_computed + n == static_cast<int64_t>(seq->tokens.size())});
    budget -= n;
  }

  // New (or preempted) sequences, first come first served.
  while (!waiting_.empty() && budget > 0 && static_cast<int>(running_.size()) < limits_.max_seqs) {
    Sequence* seq = waiting_.front();
    ScheduledChunk chunk;
    if (!admit(*seq, budget, chunk)) break;
    waiting_.pop_front();
    running_.push_back(seq);
    plan.push_back(chunk);
    budget -= chunk.n_tokens;
  }
  return plan;
}

void Scheduler::computed(const std::vector<ScheduledChunk>& chunks) {
  const int64_t bs = blocks_.block_size();
  for (const ScheduledChunk& c : chunks) {
    Sequence& seq = *c.seq;
    seq.n_computed += c.n_tokens;
    while ((seq.n_published + 1) * bs <= seq.n_computed) {
      const auto block_tokens = std::span<const int32_t>(seq.tokens).subspan(static_cast<size_t>(seq.n_published * bs),
                                                                             static_cast<size_t>(bs));
      seq.published_hash = blocks_.publish(seq.blocks[static_cast<size_t>(seq.n_published)], seq.published_hash, block_tokens);
      ++seq.n_published;
    }
  }
}

std::unique_ptr<Sequence> Scheduler::remove(uint64_t id) {
  const auto it = all_.find(id);
  if (it == all_.end()) return nullptr;
  std::unique_ptr<Sequence> seq = std::move(it->second);
  all_.erase(it);
  blocks_.release(seq->blocks);
  seq->blocks.clear();
  if (auto r = std::find(running_.begin(), running_.end(), seq.get()); r != running_.end()) running_.erase(r);
  if (auto w = std::find(waiting_.begin(), waiting_.end(), seq.get()); w != waiting_.end()) waiting_.erase(w);
  return seq;
}

std::vector<std::unique_ptr<Sequence>> Scheduler::remove_all() {
  std::vector<uint64_t> ids;
  for (const auto& [id, seq] : all_) ids.push_back(id);
  std::vector<std::unique_ptr<Sequence>> out;
  for (uint64_t id : ids) out.push_back(remove(id));
  return out;
}

}  // namespace anychip::engine
