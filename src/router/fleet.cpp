#include "router/fleet.h"

#include "util/error.h"

namespace anychip::router {

std::string normalize_worker_url(const std::string& url) {
  std::string u = url;
  while (!u.empty() && u.back() == '/') u.pop_back();
  if (u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0) {
    throw Error("bad worker URL '" + url + "': expected http://HOST:PORT");
  }
  const size_t host = u.find("://") + 3;
  if (host >= u.size() || u.find('/', host) != std::string::npos || u.find_first_of(" @?#", host) != std::string::npos) {
    throw Error("bad worker URL '" + url + "': expected http://HOST:PORT with no path");
  }
  return u;
}

bool Fleet::available(const Entry& e, Clock::time_point now) const {
  if (!e.healthy) return false;
  // Past its open period the breaker is half-open: requests go again, and one more failure
  // opens it again (failed_requests is still at the threshold).
  return !e.breaker_until || now >= *e.breaker_until;
}

void Fleet::add_static(const std::string& url, double price_per_hour) {
  WorkerReport r;
  r.url = url;
  r.price_per_hour = price_per_hour;
  add_static(r);
}

void Fleet::add_static(const WorkerReport& report) {
  std::lock_guard lock(mu_);
  Entry& e = workers_[report.url];
  e.report = report;
  e.joined = false;
}

void Fleet::register_worker(const WorkerReport& report, Clock::time_point now) {
  std::lock_guard lock(mu_);
  Entry& e = workers_[report.url];
  const int in_flight = e.in_flight;  // a re-registration keeps the router's own counters
  e.report = report;
  e.joined = true;
  e.healthy = true;
  e.failed_checks = 0;
  e.last_heartbeat = now;
  e.in_flight = in_flight;
}

bool Fleet::heartbeat(const std::string& url, const LiveLoad& load, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = workers_.find(url);
  if (it == workers_.end() || !it->second.joined) return false;
  it->second.load = load;
  it->second.last_heartbeat = now;
  it->second.healthy = true;
  return true;
}

void Fleet::health_result(const std::string& url, bool ok, const std::vector<std::string>& models) {
  std::lock_guard lock(mu_);
  auto it = workers_.find(url);
  if (it == workers_.end()) return;
  Entry& e = it->second;
  if (ok) {
    e.failed_checks = 0;
    e.healthy = true;
    if (!models.empty()) e.report.models = models;
  } else if (++e.failed_checks >= options_.eject_after) {
    e.healthy = false;
  }
}

std::vector<std::string> Fleet::expire(Clock::time_point now) {
  std::lock_guard lock(mu_);
  std::vector<std::string> dropped;
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (it->second.joined && now - it->second.last_heartbeat > options_.heartbeat_ttl) {
      dropped.push_back(it->first);
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
  return dropped;
}

std::vector<std::string> Fleet::static_urls() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [url, e] : workers_) {
    if (!e.joined) out.push_back(url);
  }
  return out;
}

std::vector<WorkerSnapshot> Fleet::snapshot(Clock::time_point now) const {
  std::lock_guard lock(mu_);
  std::vector<WorkerSnapshot> out;
  for (const auto& [url, e] : workers_) {
    WorkerSnapshot s;
    s.id = url;
    s.available = available(e, now);
    s.in_flight = e.in_flight;
    s.running = e.load.running;
    s.waiting = e.load.waiting;
    s.max_seqs = e.report.max_seqs;
    s.price_per_hour = e.report.price_per_hour;
    s.profile = e.report.profile;
    s.models = e.report.models;
    out.push_back(std::move(s));
  }
  return out;
}

void Fleet::begin_request(const std::string& url) {
  std::lock_guard lock(mu_);
  auto it = workers_.find(url);
  if (it == workers_.end()) return;
  ++it->second.in_flight;
  ++it->second.requests;
}

void Fleet::end_request(const std::string& url, bool ok, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = workers_.find(url);
  if (it == workers_.end()) return;  // dropped meanwhile
  Entry& e = it->second;
  if (e.in_flight > 0) --e.in_flight;
  if (ok) {
    e.failed_requests = 0;
    e.breaker_until.reset();
    return;
  }
  ++e.failures;
  if (++e.failed_requests >= options_.breaker_after) e.breaker_until = now + options_.breaker_open;
}

std::vector<WorkerStats> Fleet::stats(Clock::time_point now) const {
  std::lock_guard lock(mu_);
  std::vector<WorkerStats> out;
  for (const auto& [url, e] : workers_) {
    WorkerStats s;
    s.id = url;
    s.joined = e.joined;
    s.healthy = e.healthy;
    s.breaker_open = e.breaker_until && now < *e.breaker_until;
    s.in_flight = e.in_flight;
    s.requests = e.requests;
    s.failures = e.failures;
    s.running = e.load.running;
    s.waiting = e.load.waiting;
    s.kv_blocks_used = e.load.kv_blocks_used;
    s.kv_blocks_total = e.report.kv_blocks_total;
    s.price_per_hour = e.report.price_per_hour;
    out.push_back(std::move(s));
  }
  return out;
}

int Fleet::healthy_count(Clock::time_point now) const {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const auto& [url, e] : workers_) n += available(e, now) ? 1 : 0;
  return n;
}

}  // namespace anychip::router
