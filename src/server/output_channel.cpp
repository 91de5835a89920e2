#include "server/output_channel.h"

namespace anychip::server {

void OutputChannel::push(const engine::RequestOutput& output) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back({output, std::chrono::steady_clock::now()});
  }
  cv_.notify_one();
}

std::vector<TimedOutput> OutputChannel::wait_pop_all(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return !queue_.empty(); });
  std::vector<TimedOutput> out(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
  queue_.clear();
  return out;
}

}  // namespace anychip::server
