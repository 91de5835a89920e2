#pragma once
// Keeps a router's fleet in step with the workers listed in etcd: lists them, then watches for
// changes; whenever the watch breaks (etcd restarted, compacted, unreachable), lists again, so a
// router that was cut off catches up instead of trusting a stale view. A malformed record is
// logged and skipped.
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "router/etcd_keys.h"
#include "router/fleet.h"

namespace anychip::router {

class EtcdClient;
class EtcdWatch;

class EtcdFleetWatcher {
 public:
  // on_deleted: a worker's key went away (the publisher puts it back when the worker still beats
  // here). Lists once before returning (when etcd answers within its timeout), so a restarted
  // router knows the fleet before it serves. Throws anychip::Error for a bad endpoint.
  EtcdFleetWatcher(EtcdOptions options, Fleet& fleet, std::function<void(const std::string& url)> on_deleted);
  ~EtcdFleetWatcher();
  EtcdFleetWatcher(const EtcdFleetWatcher&) = delete;
  EtcdFleetWatcher& operator=(const EtcdFleetWatcher&) = delete;

 private:
  // Lists the workers into the fleet; returns the revision to watch from. Throws EtcdError.
  int64_t list();
  void loop(int64_t watch_from);
  void apply(const std::string& key, const std::string& value, bool deleted);
  void log_failure(const std::string& what);

  EtcdOptions options_;
  Fleet& fleet_;
  std::function<void(const std::string&)> on_deleted_;
  std::unique_ptr<EtcdClient> client_;
  std::unique_ptr<EtcdWatch> watch_;
  std::string last_error_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace anychip::router
