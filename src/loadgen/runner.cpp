#include "loadgen/runner.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "loadgen/elastic_pool.h"

namespace anychip::loadgen {

RunResult run_plan(const std::vector<PlannedRequest>& plan, size_t max_in_flight, const Sender& send) {
  RunResult result;
  result.outcomes.resize(plan.size());
  std::mutex mu;
  std::condition_variable slot_freed;
  size_t in_flight = 0;

  const Clock::time_point start = Clock::now();
  {
    ElasticPool pool;  // its destructor waits for every request to end
    for (size_t i = 0; i < plan.size(); ++i) {
      std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(
                                                std::chrono::duration<double>(plan[i].arrival)));
      {
        std::unique_lock lock(mu);
        slot_freed.wait(lock, [&] { return max_in_flight == 0 || in_flight < max_in_flight; });
        ++in_flight;
        result.peak_in_flight = std::max(result.peak_in_flight, in_flight);
      }
      pool.submit([&, i] {
        // An exception would end the whole process from this thread; it fails one request instead.
        try {
          result.outcomes[i] = send(plan[i].spec, start);
        } catch (const std::exception& e) {
          result.outcomes[i].error = std::string("client error: ") + e.what();
        }
        {
          std::lock_guard lock(mu);
          --in_flight;
        }
        slot_freed.notify_one();
      });
    }
  }
  if (!result.outcomes.empty()) {
    double first = result.outcomes[0].start, last = result.outcomes[0].end;
    for (const auto& o : result.outcomes) {
      first = std::min(first, o.start);
      last = std::max(last, o.end);
    }
    result.duration = last - first;
  }
  return result;
}

}  // namespace anychip::loadgen
