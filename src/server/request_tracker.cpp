#include "server/request_tracker.h"

namespace anychip::server {

RequestTracker::Ticket::~Ticket() {
  {
    std::lock_guard lock(tracker_.mu_);
    --tracker_.in_flight_;
    if (has_id_) {
      auto it = tracker_.ids_.find(id_);
      if (it != tracker_.ids_.end()) tracker_.ids_.erase(it);
    }
  }
  tracker_.cv_.notify_all();
}

void RequestTracker::Ticket::set_engine_id(uint64_t id) {
  std::lock_guard lock(tracker_.mu_);
  id_ = id;
  has_id_ = true;
  tracker_.ids_.insert(id);
}

std::shared_ptr<RequestTracker::Ticket> RequestTracker::begin() {
  {
    std::lock_guard lock(mu_);
    ++in_flight_;
  }
  return std::make_shared<Ticket>(*this);
}

int RequestTracker::in_flight() const {
  std::lock_guard lock(mu_);
  return in_flight_;
}

std::vector<uint64_t> RequestTracker::engine_ids() const {
  std::lock_guard lock(mu_);
  return {ids_.begin(), ids_.end()};
}

bool RequestTracker::wait_idle(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  return cv_.wait_until(lock, deadline, [&] { return in_flight_ == 0; });
}

}  // namespace anychip::server
