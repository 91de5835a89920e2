#include "router/fleet.h"

#include "util/error.h"

namespace anychip::router {
namespace {

bool orphaned(const WorkerSources& s) { return !s.configured && !s.joined_here && !s.shared; }

}  // namespace

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

void Fleet::accrue(Entry& e, Clock::time_point now) {
  if (e.in_flight > 0 && now > e.accrued_to) {
    const double s = std::chrono::duration<double>(now - e.accrued_to).count();
    e.busy_seconds += s;
    e.cost += s * e.report.price_per_hour / 3600.0;
  }
  e.accrued_to = now;
}

void Fleet::retire(Entry& e, Clock::time_point now) {
  accrue(e, now);
  departed_.generated_tokens += e.generated_tokens;
  departed_.cost += e.cost;
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
  e.sources.configured = true;
}

void Fleet::register_worker(const WorkerReport& report, Clock::time_point now) {
  std::lock_guard lock(mu_);
  Entry& e = workers_[report.url];
  accrue(e, now);  // the busy time so far is billed at the old price
  e.report = report;  // the router's own counters (in flight, busy time) carry over
  e.sources.joined_here = true;
  e.healthy = true;
  e.failed_checks = 0;
  e.last_heartbeat = now;
}

bool Fleet::heartbeat(const std::string& url, const LiveLoad& load, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = workers_.find(url);
  if (it == workers_.end() || !it->second.sources.joined_here) return false;
  it->second.load = load;
  it->second.last_heartbeat = now;
  it->second.healthy = true;
  return true;
}

void Fleet::merge_shared(const WorkerReport& report, const LiveLoad& load) {
  std::lock_guard lock(mu_);
  Entry& e = workers_[report.url];
  e.sources.shared = true;
  if (e.sources.joined_here) return;
  accrue(e, Clock::now());
  e.report = report;
  e.load = load;
  // A configured worker's health is its health checks'; a shared one is alive while its lease is.
  if (!e.sources.configured) e.healthy = true;
}

void Fleet::drop_shared(const std::string& url) {
  std::lock_guard lock(mu_);
  auto it = workers_.find(url);
  if (it == workers_.end()) return;
  it->second.sources.shared = false;
  if (orphaned(it->second.sources)) {
    retire(it->second, Clock::now());
    workers_.erase(it);
  }
}

void Fleet::replace_shared(const std::vector<std::pair<WorkerReport, LiveLoad>>& listed) {
  std::vector<std::string> gone;
  {
    std::lock_guard lock(mu_);
    for (auto& [url, e] : workers_) {
      bool still = false;
      for (const auto& l : listed) still = still || l.first.url == url;
      if (e.sources.shared && !still) gone.push_back(url);
    }
  }
  for (const std::string& url : gone) drop_shared(url);
  for (const auto& [report, load] : listed) merge_shared(report, load);
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
    Entry& e = it->second;
    if (e.sources.joined_here && now - e.last_heartbeat > options_.heartbeat_ttl) {
      e.sources.joined_here = false;
      if (orphaned(e.sources)) {
        dropped.push_back(it->first);
        retire(e, now);
        it = workers_.erase(it);
        continue;
      }
    }
    ++it;
  }
  return dropped;
}

std::vector<std::string> Fleet::static_urls() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [url, e] : workers_) {
    if (e.sources.configured) out.push_back(url);
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

void Fleet::begin_request(const std::string& url, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = workers_.find(url);
  if (it == workers_.end()) return;
  accrue(it->second, now);
  ++it->second.in_flight;
  ++it->second.requests;
}

void Fleet::end_request(const std::string& url, bool ok, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = workers_.find(url);
  if (it == workers_.end()) return;  // dropped meanwhile
  Entry& e = it->second;
  accrue(e, now);
  if (e.in_flight > 0) --e.in_flight;
  if (ok) {
    e.failed_requests = 0;
    e.breaker_until.reset();
    return;
  }
  ++e.failures;
  if (++e.failed_requests >= options_.breaker_after) e.breaker_until = now + options_.breaker_open;
}

void Fleet::add_generated_tokens(const std::string& url, uint64_t tokens) {
  std::lock_guard lock(mu_);
  auto it = workers_.find(url);
  if (it != workers_.end()) {
    it->second.generated_tokens += tokens;
  } else {
    departed_.generated_tokens += tokens;  // it left while the answer streamed
  }
}

std::vector<WorkerStats> Fleet::stats(Clock::time_point now) const {
  std::lock_guard lock(mu_);
  std::vector<WorkerStats> out;
  for (const auto& [url, e] : workers_) {
    Entry current = e;  // with the busy time up to now, without moving the books
    accrue(current, now);
    WorkerStats s;
    s.id = url;
    s.sources = e.sources;
    s.device = e.report.device;
    s.models = e.report.models;
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
    s.profile = e.report.profile;
    s.generated_tokens = e.generated_tokens;
    s.busy_seconds = current.busy_seconds;
    s.cost = current.cost;
    out.push_back(std::move(s));
  }
  return out;
}

FleetTotals Fleet::totals(Clock::time_point now) const {
  std::lock_guard lock(mu_);
  FleetTotals t = departed_;
  for (const auto& [url, e] : workers_) {
    Entry current = e;
    accrue(current, now);
    t.generated_tokens += e.generated_tokens;
    t.cost += current.cost;
  }
  return t;
}

int Fleet::healthy_count(Clock::time_point now) const {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const auto& [url, e] : workers_) n += available(e, now) ? 1 : 0;
  return n;
}

}  // namespace anychip::router
