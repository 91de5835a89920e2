#include "backend/cpu/thread_pool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__)
#include <immintrin.h>
#define ANYCHIP_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define ANYCHIP_CPU_RELAX() asm volatile("yield")
#else
#define ANYCHIP_CPU_RELAX() ((void)0)
#endif

namespace anychip::cpu {
namespace {

// How long an idle worker keeps polling before it sleeps: long enough to bridge the gap between
// the ops of one forward pass, short enough not to burn a core between requests.
constexpr auto kSpin = std::chrono::microseconds(200);

void run_share(const std::function<void(int64_t, int64_t)>& fn, int64_t n, int index, int parts) {
  const int64_t begin = n * index / parts, end = n * (index + 1) / parts;
  if (begin < end) fn(begin, end);
}

constexpr uint64_t pack_bounds(int64_t front, int64_t back) {
  return (static_cast<uint64_t>(front) << 32) | static_cast<uint64_t>(back);
}
constexpr int64_t front_of(uint64_t v) { return static_cast<int64_t>(v >> 32); }
constexpr int64_t back_of(uint64_t v) { return static_cast<int64_t>(v & 0xffffffffu); }

// Claims a piece of [front, back): from the front, all but an eighth of what is left (the owner:
// a few calls, each continuing its stream), or from the back, half of what is left (a thief: the
// two then finish about together). Only the last eighth of a share is left to steal because each
// stolen piece starts a new stream cold: with quarter pieces, a sequence of layer-sized matmuls
// on two threads read 62-64 GB/s where fixed halves read 67-69 (kernel bench decode_ab, a quiet
// host streaming 72-74), and stealing only the tail kept the fixed halves' speed.
bool claim(std::atomic<uint64_t>& bounds, bool from_front, int64_t& begin, int64_t& end) {
  uint64_t v = bounds.load(std::memory_order_relaxed);
  for (;;) {
    const int64_t f = front_of(v), b = back_of(v);
    if (f >= b) return false;
    const int64_t piece = std::max<int64_t>(1, from_front ? (b - f) - (b - f) / 8 : (b - f) / 2);
    const uint64_t next = from_front ? pack_bounds(f + piece, b) : pack_bounds(f, b - piece);
    if (bounds.compare_exchange_weak(v, next, std::memory_order_acq_rel, std::memory_order_relaxed)) {
      begin = from_front ? f : b - piece;
      end = from_front ? f + piece : b;
      return true;
    }
  }
}

}  // namespace

ThreadPool::ThreadPool(int threads) : n_threads_(std::max(1, threads)), shares_(static_cast<size_t>(std::max(1, threads))) {
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stop_.store(true, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn) { dispatch(n, fn, false); }

void ThreadPool::parallel_for_balanced(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  // The bounds are 32-bit halves of one word.
  dispatch(n, fn, n < (int64_t{1} << 31));
}

void ThreadPool::parallel_for_balanced(int64_t n, const std::function<void(int64_t, int64_t)>& fn,
                                       const std::function<void(int)>& done) {
  dispatch(n, fn, n < (int64_t{1} << 31), &done);
}

void ThreadPool::dispatch(int64_t n, const std::function<void(int64_t, int64_t)>& fn, bool balanced,
                          const std::function<void(int)>* done) {
  if (n <= 0) return;
  if (n_threads_ == 1 || n == 1) {
    fn(0, n);
    if (done) {
      for (int i = 0; i < n_threads_; ++i) (*done)(i);
    }
    return;
  }
  {
    std::lock_guard lock(mutex_);
    job_ = &fn;
    job_done_ = done;
    job_n_ = n;
    job_balanced_ = balanced;
    if (balanced) {
      for (int i = 0; i < n_threads_; ++i) {
        shares_[static_cast<size_t>(i)].bounds.store(pack_bounds(n * i / n_threads_, n * (i + 1) / n_threads_),
                                                     std::memory_order_relaxed);
      }
    }
    pending_.store(n_threads_ - 1, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
  }
  if (sleepers_.load() > 0) wake_.notify_all();
  run(0);
  while (pending_.load(std::memory_order_acquire) != 0) ANYCHIP_CPU_RELAX();
}

// Thread `index`'s part of the current job.
void ThreadPool::run(int index) {
  const std::function<void(int64_t, int64_t)>& fn = *job_;
  if (!job_balanced_) {
    run_share(fn, job_n_, index, n_threads_);
  } else {
    int64_t begin = 0, end = 0;
    while (claim(shares_[static_cast<size_t>(index)].bounds, true, begin, end)) fn(begin, end);
    for (int k = 1; k < n_threads_; ++k) {
      auto& victim = shares_[static_cast<size_t>((index + k) % n_threads_)].bounds;
      while (claim(victim, false, begin, end)) fn(begin, end);
    }
  }
  if (job_done_) (*job_done_)(index);
}

void ThreadPool::worker(int index) {
  uint64_t seen = 0;
  for (;;) {
    // Spin first: the next op usually arrives within microseconds. The generation is checked
    // after every pause (a pause is tens of cycles on current cores, and a decode step's matmul
    // lasts only tens of microseconds), the clock every 64.
    const auto spin_until = std::chrono::steady_clock::now() + kSpin;
    uint64_t generation = generation_.load(std::memory_order_acquire);
    for (int i = 1; generation == seen; ++i) {
      ANYCHIP_CPU_RELAX();
      if (i % 64 == 0 && std::chrono::steady_clock::now() >= spin_until) break;
      generation = generation_.load(std::memory_order_acquire);
    }
    // Only sleeping takes the mutex: a job seen while spinning starts at once (its fields were
    // written before the generation was published), rather than queueing on the mutex that the
    // dispatching thread may still hold, which can put the worker to sleep in the kernel.
    if (generation == seen) {
      std::unique_lock lock(mutex_);
      sleepers_.fetch_add(1);
      wake_.wait(lock, [&] { return generation_.load() != seen; });
      sleepers_.fetch_sub(1);
      generation = generation_.load();
    }
    if (stop_.load(std::memory_order_acquire)) return;
    seen = generation;
    run(index);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

}  // namespace anychip::cpu
