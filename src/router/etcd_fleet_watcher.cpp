#include "router/etcd_fleet_watcher.h"

#include <cstdio>

#include "router/etcd_client.h"
#include "router/etcd_watch.h"
#include "router/fleet_protocol.h"

namespace anychip::router {
namespace {

constexpr auto kRetryDelay = std::chrono::milliseconds(500);
// A watch with no event for this long is renewed (listing again): see EtcdWatch.
constexpr auto kIdleWatch = std::chrono::seconds(60);

}  // namespace

EtcdFleetWatcher::EtcdFleetWatcher(EtcdOptions options, Fleet& fleet, std::function<void(const std::string&)> on_deleted)
    : options_(std::move(options)),
      fleet_(fleet),
      on_deleted_(std::move(on_deleted)),
      client_(std::make_unique<EtcdClient>(options_.endpoint)),
      watch_(std::make_unique<EtcdWatch>(options_.endpoint, kIdleWatch)) {
  int64_t watch_from = 0;
  try {
    watch_from = list();
  } catch (const std::exception& e) {
    log_failure(e.what());
  }
  thread_ = std::thread([this, watch_from] { loop(watch_from); });
}

EtcdFleetWatcher::~EtcdFleetWatcher() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  watch_->stop();
  if (thread_.joinable()) thread_.join();
}

void EtcdFleetWatcher::log_failure(const std::string& what) {
  if (last_error_ != what) std::fprintf(stderr, "anychip route: etcd: %s; retrying\n", what.c_str());
  last_error_ = what;
}

int64_t EtcdFleetWatcher::list() {
  const EtcdListing listing = client_->list_prefix(workers_prefix(options_.prefix));
  std::vector<std::pair<WorkerReport, LiveLoad>> workers;
  for (const EtcdKeyValue& kv : listing.kvs) {
    const auto url = worker_of_key(options_.prefix, kv.key);
    try {
      auto record = parse_worker_record(kv.value);
      if (!url || record.first.url != *url) throw Error("the record's url is not its key's");
      workers.push_back(std::move(record));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "anychip route: etcd: skipping the malformed worker record %s (%s)\n", kv.key.c_str(), e.what());
    }
  }
  fleet_.replace_shared(workers);
  if (!last_error_.empty()) std::fprintf(stderr, "anychip route: etcd: %zu workers listed\n", workers.size());
  last_error_.clear();
  return listing.revision + 1;
}

void EtcdFleetWatcher::apply(const std::string& key, const std::string& value, bool deleted) {
  const auto url = worker_of_key(options_.prefix, key);
  if (!url) return;
  if (deleted) {
    fleet_.drop_shared(*url);
    on_deleted_(*url);
    return;
  }
  try {
    const auto [report, load] = parse_worker_record(value);
    if (report.url != *url) throw Error("the record's url is not its key's");
    fleet_.merge_shared(report, load);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "anychip route: etcd: skipping the malformed worker record %s (%s)\n", key.c_str(), e.what());
  }
}

void EtcdFleetWatcher::loop(int64_t watch_from) {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (stop_) return;
    }
    try {
      if (watch_from == 0) watch_from = list();
      const bool stopped = watch_->run(workers_prefix(options_.prefix), watch_from,
                                       [this](const EtcdEvent& ev) { apply(ev.key, ev.value, ev.deleted); });
      if (stopped) return;
      watch_from = 0;  // went quiet: renew it (see EtcdWatch)
      continue;
    } catch (const std::exception& e) {
      log_failure(e.what());
    }
    watch_from = 0;  // events may have been missed: list again
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, kRetryDelay, [this] { return stop_; })) return;
  }
}

}  // namespace anychip::router
