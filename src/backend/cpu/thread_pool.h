#pragma once
// A persistent pool: workers are created once and woken per parallel_for, so ops never pay for
// thread creation. Between ops a decode step issues hundreds of small parallel loops, so workers
// spin briefly on an atomic job counter before falling back to sleeping on a condition variable.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace anychip::cpu {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }
  // Calls fn(begin, end) on disjoint chunks covering [0, n); the caller's thread takes a share.
  // Thread i gets exactly [n*i/size, n*(i+1)/size) in one call.
  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn);
  // The same cover, balanced: each thread walks its own share front to back in shrinking pieces
  // (so its reads stay one stream: the first is seven eighths of the share), and a thread that
  // runs out takes pieces from the back of the others' unclaimed rest. For work whose threads run
  // at slightly different speeds (memory contention, a busy neighbour): the op ends when the work
  // does, not when the slowest share does. A thread stalled inside a piece keeps that piece.
  void parallel_for_balanced(int64_t n, const std::function<void(int64_t, int64_t)>& fn);
  // The same, then each thread calls done(thread index) once when no work is left for it, before
  // the call returns: for work a thread can start early for what comes next (prefetching). When
  // the work runs on the caller alone (one thread, or n == 1), the caller calls it for every index.
  void parallel_for_balanced(int64_t n, const std::function<void(int64_t, int64_t)>& fn,
                             const std::function<void(int)>& done);

 private:
  // The unclaimed part [front, back) of one thread's share, in one word so that the owner taking
  // from the front and a thief taking from the back never claim the same index.
  struct alignas(64) Share {
    std::atomic<uint64_t> bounds{0};
  };
  void dispatch(int64_t n, const std::function<void(int64_t, int64_t)>& fn, bool balanced,
                const std::function<void(int)>* done = nullptr);
  void run(int index);
  void worker(int index);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  const std::function<void(int64_t, int64_t)>* job_ = nullptr;
  const std::function<void(int)>* job_done_ = nullptr;
  int64_t job_n_ = 0;
  bool job_balanced_ = false;
  std::vector<Share> shares_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace anychip::cpu
