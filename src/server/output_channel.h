#pragma once
// Hands one request's outputs from the engine's loop thread to the HTTP thread serving it. The
// engine side only pushes (never blocks on the client); the HTTP side waits with a timeout so it
// can look at its connection between outputs. Shared by both sides through a shared_ptr, so
// whichever finishes last frees it.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <vector>

#include "engine/serving_engine.h"

namespace anychip::server {

struct TimedOutput {
  engine::RequestOutput output;
  std::chrono::steady_clock::time_point at;  // when the engine produced it (for latency metrics)
};

class OutputChannel {
 public:
  void push(const engine::RequestOutput& output);
  // Everything queued, waiting up to `timeout` for the first; empty on timeout.
  std::vector<TimedOutput> wait_pop_all(std::chrono::milliseconds timeout);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<TimedOutput> queue_;
};

}  // namespace anychip::server
