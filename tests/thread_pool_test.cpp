// The CPU thread pool: both loops cover [0, n) exactly once for any n and thread count; the
// static one hands thread i exactly its share in one call; the balanced one moves work from a
// stalled thread to the others instead of waiting for it.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "backend/cpu/thread_pool.h"

namespace anychip::cpu {
namespace {

std::vector<int> coverage(ThreadPool& pool, int64_t n, bool balanced) {
  std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
  const auto fn = [&](int64_t begin, int64_t end) {
    ASSERT_LE(0, begin);
    ASSERT_LT(begin, end);
    ASSERT_LE(end, n);
    for (int64_t i = begin; i < end; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
  };
  if (balanced) {
    pool.parallel_for_balanced(n, fn);
  } else {
    pool.parallel_for(n, fn);
  }
  std::vector<int> out;
  for (auto& h : hits) out.push_back(h.load());
  return out;
}

TEST(ThreadPool, BothLoopsCoverEveryIndexOnce) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    for (int64_t n : {1, 2, 3, 7, 16, 64, 1000, 4099}) {
      for (bool balanced : {false, true}) {
        const std::vector<int> hits = coverage(pool, n, balanced);
        for (int64_t i = 0; i < n; ++i) {
          ASSERT_EQ(hits[static_cast<size_t>(i)], 1)
              << "index " << i << " of " << n << ", " << threads << " threads, balanced " << balanced;
        }
      }
    }
  }
}

TEST(ThreadPool, StaticLoopGivesEachThreadItsShareInOneCall) {
  ThreadPool pool(4);
  std::mutex mu;
  std::vector<std::pair<int64_t, int64_t>> calls;
  pool.parallel_for(103, [&](int64_t begin, int64_t end) {
    std::lock_guard lock(mu);
    calls.emplace_back(begin, end);
  });
  std::sort(calls.begin(), calls.end());
  const std::vector<std::pair<int64_t, int64_t>> want = {{0, 25}, {25, 51}, {51, 77}, {77, 103}};
  EXPECT_EQ(calls, want);
}

TEST(ThreadPool, BalancedLoopTakesWorkFromAStalledThread) {
  ThreadPool pool(2);
  const int64_t n = 64;
  std::atomic<int> stalled_calls{0};
  std::atomic<int64_t> done_by_others{0};
  const std::thread::id caller = std::this_thread::get_id();
  pool.parallel_for_balanced(n, [&](int64_t begin, int64_t end) {
    if (std::this_thread::get_id() != caller) {
      // The worker stalls on its first piece, as a core lent to another tenant would.
      if (stalled_calls.fetch_add(1) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    } else {
      done_by_others.fetch_add(end - begin);
    }
  });
  // The caller did its own half and took all the worker had not claimed: at least the last eighth
  // of the worker's share (its first piece is the rest).
  EXPECT_GE(done_by_others.load(), n / 2 + n / 16);
}

// The done hook runs once on every thread, after all of the work (so after that thread's last
// piece), and before the call returns.
TEST(ThreadPool, BalancedDoneHookRunsOncePerThreadAfterTheWork) {
  for (int threads : {1, 2, 3}) {
    for (int64_t n : {1, 5, 300}) {
      ThreadPool pool(threads);
      std::atomic<int64_t> covered{0};
      std::vector<std::atomic<int>> done(static_cast<size_t>(threads));
      std::mutex mu;
      std::set<std::thread::id> finished;  // threads whose hook has run
      bool work_after_done = false;
      pool.parallel_for_balanced(
          n,
          [&](int64_t begin, int64_t end) {
            {
              std::lock_guard lock(mu);
              if (finished.contains(std::this_thread::get_id())) work_after_done = true;
            }
            covered.fetch_add(end - begin);
          },
          [&](int thread) {
            ASSERT_GE(thread, 0);
            ASSERT_LT(thread, threads);
            done[static_cast<size_t>(thread)].fetch_add(1);
            std::lock_guard lock(mu);
            finished.insert(std::this_thread::get_id());
          });
      EXPECT_EQ(covered.load(), n);
      for (int t = 0; t < threads; ++t) EXPECT_EQ(done[static_cast<size_t>(t)].load(), 1) << t << " of " << threads << ", n " << n;
      EXPECT_FALSE(work_after_done);
    }
  }
}

}  // namespace
}  // namespace anychip::cpu
