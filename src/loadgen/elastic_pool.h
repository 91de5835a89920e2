#pragma once
// Threads that run blocking tasks, one per task in flight: a task never waits for a busy
// thread (a new one starts when none is idle), and finished threads are reused. An open-loop
// load generator needs exactly this: arrivals must not queue behind slow requests.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace anychip::loadgen {

class ElasticPool {
 public:
  ElasticPool() = default;
  ElasticPool(const ElasticPool&) = delete;
  ElasticPool& operator=(const ElasticPool&) = delete;
  ~ElasticPool();  // runs every submitted task to its end, then joins

  void submit(std::function<void()> task);
  size_t threads() const;

 private:
  void work();

  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::thread> threads_;
  size_t idle_ = 0;
  bool closing_ = false;
};

}  // namespace anychip::loadgen
