#pragma once
// Knows which completion requests are in flight, so shutdown can wait for them (drain) and, past
// its deadline, cancel them. A request counts from the moment its handler starts until its
// response has been written, through an RAII ticket the handler and its stream hold.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

namespace anychip::server {

class RequestTracker {
 public:
  class Ticket {
   public:
    explicit Ticket(RequestTracker& tracker) : tracker_(tracker) {}
    ~Ticket();
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    // The engine id once submitted (for cancel_all).
    void set_engine_id(uint64_t id);

   private:
    RequestTracker& tracker_;
    bool has_id_ = false;
    uint64_t id_ = 0;
  };

  std::shared_ptr<Ticket> begin();
  int in_flight() const;
  std::vector<uint64_t> engine_ids() const;
  // True when nothing is in flight before the deadline.
  bool wait_idle(std::chrono::steady_clock::time_point deadline);

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int in_flight_ = 0;
  std::multiset<uint64_t> ids_;
};

}  // namespace anychip::server
