#include "loadgen/elastic_pool.h"

namespace anychip::loadgen {

ElasticPool::~ElasticPool() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  ready_.notify_all();
  for (auto& t : threads_) t.join();
}

void ElasticPool::submit(std::function<void()> task) {
  std::lock_guard lock(mu_);
  tasks_.push_back(std::move(task));
  // Idle threads may not have woken for earlier tasks yet, so compare against the whole queue.
  if (tasks_.size() > idle_) {
    threads_.emplace_back([this] { work(); });
  } else {
    ready_.notify_one();
  }
}

size_t ElasticPool::threads() const {
  std::lock_guard lock(mu_);
  return threads_.size();
}

void ElasticPool::work() {
  std::unique_lock lock(mu_);
  for (;;) {
    ++idle_;
    ready_.wait(lock, [this] { return closing_ || !tasks_.empty(); });
    --idle_;
    if (tasks_.empty()) return;  // closing, and nothing left to run
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

}  // namespace anychip::loadgen
