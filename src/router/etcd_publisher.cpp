#include "router/etcd_publisher.h"

#include <cstdio>
#include <vector>

#include "router/etcd_client.h"
#include "router/fleet_protocol.h"

namespace anychip::router {
namespace {

// After a failed call, retried this much later (an outage is logged once, not per retry).
constexpr auto kRetryDelay = std::chrono::milliseconds(500);

bool same_load(const LiveLoad& a, const LiveLoad& b) {
  return a.running == b.running && a.waiting == b.waiting && a.kv_blocks_used == b.kv_blocks_used;
}

}  // namespace

EtcdPublisher::EtcdPublisher(EtcdOptions options)
    : options_(std::move(options)), client_(std::make_unique<EtcdClient>(options_.endpoint)) {
  thread_ = std::thread([this] { loop(); });
}

EtcdPublisher::~EtcdPublisher() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void EtcdPublisher::registered(const WorkerReport& report) {
  {
    std::lock_guard lock(mu_);
    Member& m = members_[report.url];
    m.report = report;
    m.put_due = true;
    m.last_beat = Clock::now();
  }
  cv_.notify_all();
}

void EtcdPublisher::heartbeat(const std::string& url, const LiveLoad& load) {
  {
    std::lock_guard lock(mu_);
    auto it = members_.find(url);
    if (it == members_.end()) return;
    Member& m = it->second;
    if (!same_load(m.load, load)) m.put_due = true;
    m.load = load;
    m.renew_due = true;
    m.last_beat = Clock::now();
  }
  cv_.notify_all();
}

void EtcdPublisher::key_deleted(const std::string& url) {
  {
    std::lock_guard lock(mu_);
    auto it = members_.find(url);
    if (it == members_.end() || Clock::now() - it->second.last_beat > options_.lease_ttl) return;
    it->second.lease = 0;  // maybe ours ran out: a fresh one costs nothing
    it->second.put_due = true;
  }
  cv_.notify_all();
}

bool EtcdPublisher::sync(const std::string& url, std::unique_lock<std::mutex>& lock) {
  // Work on a copy with the flags taken: a heartbeat arriving meanwhile sets them again.
  Member m = members_[url];
  Member& live = members_[url];
  live.put_due = false;
  live.renew_due = false;
  lock.unlock();
  int64_t lease = m.lease;
  bool ok = true;
  try {
    bool put = m.put_due;
    if (lease != 0 && m.renew_due && client_->keep_alive(lease) <= 0) lease = 0;  // expired: the key went with it
    if (lease == 0) {
      lease = client_->grant_lease(options_.lease_ttl.count());
      put = true;
    }
    if (put) client_->put(worker_key(options_.prefix, url), worker_record(m.report, m.load), lease);
    if (!last_error_.empty()) std::fprintf(stderr, "anychip route: etcd: publishing workers again\n");
    last_error_.clear();
  } catch (const std::exception& e) {
    if (last_error_ != e.what()) std::fprintf(stderr, "anychip route: etcd: %s; retrying\n", e.what());
    last_error_ = e.what();
    ok = false;
  }
  lock.lock();
  auto it = members_.find(url);
  if (it == members_.end()) return ok;
  if (ok) {
    it->second.lease = lease;
  } else {
    it->second.lease = 0;  // start over: a new lease and a put
    it->second.put_due = true;
  }
  return ok;
}

void EtcdPublisher::loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    // A worker silent for a lease's length has gone (or moved to another router): forget it;
    // its lease runs out by itself.
    const auto now = Clock::now();
    std::vector<std::string> due;
    for (auto it = members_.begin(); it != members_.end();) {
      if (now - it->second.last_beat > options_.lease_ttl) {
        it = members_.erase(it);
        continue;
      }
      if (it->second.put_due || it->second.renew_due || it->second.lease == 0) due.push_back(it->first);
      ++it;
    }
    bool failed = false;
    for (const std::string& url : due) {
      if (stop_) return;
      if (members_.count(url) && !sync(url, lock)) failed = true;
    }
    if (failed) {
      cv_.wait_for(lock, kRetryDelay, [this] { return stop_; });
      continue;
    }
    cv_.wait_for(lock, options_.lease_ttl / 3, [this] {
      if (stop_) return true;
      for (const auto& [url, m] : members_) {
        if (m.put_due || m.renew_due || m.lease == 0) return true;
      }
      return false;
    });
  }
}

}  // namespace anychip::router
