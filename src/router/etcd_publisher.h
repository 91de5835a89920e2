#pragma once
// Writes the workers that joined this router into etcd, each under its own lease that only its
// heartbeats renew (one keep-alive per heartbeat). A worker that stops beating therefore leaves
// every router's fleet when its lease runs out, whichever router it joined; a router that dies
// takes nothing with it but the leases of workers that, once they move to another router, are
// put again under that router's leases. Network calls run on a thread of their own, so a slow
// or absent etcd never delays a heartbeat's answer.
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "router/etcd_keys.h"
#include "router/fleet.h"

namespace anychip::router {

class EtcdClient;

class EtcdPublisher {
 public:
  // Throws anychip::Error for a bad endpoint; etcd itself is first called on the first join.
  explicit EtcdPublisher(EtcdOptions options);
  ~EtcdPublisher();  // stops; the leases run out by themselves
  EtcdPublisher(const EtcdPublisher&) = delete;
  EtcdPublisher& operator=(const EtcdPublisher&) = delete;

  // POST /v1/fleet/register and /v1/fleet/heartbeat accepted by this router.
  void registered(const WorkerReport& report);
  void heartbeat(const std::string& url, const LiveLoad& load);
  // The watch saw the worker's key deleted: when it still beats here, it is put back at once
  // (its key was under another router's lease that ran out, or etcd lost ours).
  void key_deleted(const std::string& url);

 private:
  struct Member {
    WorkerReport report;
    LiveLoad load;
    int64_t lease = 0;         // 0: none yet (or lost): grant one and put
    bool put_due = true;       // the record changed
    bool renew_due = false;    // a heartbeat came since the last keep-alive
    Clock::time_point last_beat;
  };
  void loop();
  // One member's due calls. Returns false when etcd failed (the work stays due).
  bool sync(const std::string& url, std::unique_lock<std::mutex>& lock);

  EtcdOptions options_;
  std::unique_ptr<EtcdClient> client_;  // the loop thread's only
  std::string last_error_;              // the loop thread's: one log line per outage
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Member> members_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace anychip::router
