#pragma once
// The HTTP front of `anychip route`: the OpenAI routes of `anychip serve`, each request forwarded
// to a worker the policy picks, retried elsewhere while nothing has reached the client; the fleet
// routes workers register through; /health, /metrics.
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "router/etcd_keys.h"
#include "router/fleet.h"
#include "router/latency_calibration.h"
#include "router/policy.h"
#include "router/prefix_affinity.h"
#include "router/router_metrics.h"
#include "router/upstream.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace anychip::router {

struct RouterOptions {
  std::string host = "127.0.0.1";
  int port = 8080;           // 0: any free port
  std::string api_key;       // required from clients when set; forwarded to workers as given
  Policy policy = Policy::cost_slo;
  Slo slo;
  int threads = 256;         // connections served at once
  int max_attempts = 4;      // workers one request may be tried on
  UpstreamOptions upstream;
  std::chrono::milliseconds health_interval{1000};
  FleetOptions fleet;
  // Share the fleet with other routers through etcd (set lease_ttl to fleet.heartbeat_ttl).
  std::optional<EtcdOptions> etcd;
};

class HealthChecker;
class FleetHistory;
class EtcdPublisher;
class EtcdFleetWatcher;

class RouterServer {
 public:
  explicit RouterServer(RouterOptions options);
  ~RouterServer();
  RouterServer(const RouterServer&) = delete;
  RouterServer& operator=(const RouterServer&) = delete;

  Fleet& fleet() { return fleet_; }
  // Starts health checks (after the static workers are added).
  void start_health_checks();
  // With options.etcd: lists the shared fleet (before returning, when etcd answers), then keeps
  // it in step, and publishes the workers that join here. Throws anychip::Error for a bad URL.
  void start_etcd_membership();
  int bind();     // returns the port; throws anychip::Error
  bool listen();  // blocks until stop()
  bool wait_running(std::chrono::milliseconds timeout);
  // New completions get 503 from now on (and /health says "draining"); those in flight go on.
  void begin_drain() { draining_.store(true); }
  // True when every completion in flight (streams included) ended before the deadline.
  bool wait_idle(std::chrono::steady_clock::time_point deadline) const;
  void stop();

 private:
  void install_routes();
  void check_key(const httplib::Request& req) const;
  void handle_completion(const httplib::Request& req, httplib::Response& res, bool chat);
  // Picks a worker not yet tried for this request; -1 when none is left.
  int choose(const std::vector<WorkerSnapshot>& ws, const std::vector<int>& exclude, const RequestTraits& traits);

  RouterOptions options_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  Fleet fleet_;
  std::unique_ptr<FleetHistory> history_;  // reads fleet_: declared after it
  PrefixAffinity affinity_;
  LatencyCalibration calibration_;
  RouterMetrics metrics_;
  std::atomic<uint64_t> rr_counter_{0};
  std::atomic<bool> draining_{false};
  std::atomic<int> active_{0};  // completions whose response is not yet fully written
  std::unique_ptr<HealthChecker> health_;
  // The watcher calls the publisher: declared after it, so destroyed before it.
  std::unique_ptr<EtcdPublisher> publisher_;
  std::unique_ptr<EtcdFleetWatcher> etcd_watcher_;
  std::unique_ptr<httplib::Server> http_;
};

}  // namespace anychip::router
