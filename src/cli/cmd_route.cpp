// anychip route: one OpenAI-compatible endpoint in front of a fleet of workers (`anychip serve`
// instances that --join it, or any OpenAI-compatible server given with --worker). SIGTERM/SIGINT
// stop it.

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/http_lifecycle.h"
#include "router/etcd_client.h"
#include "router/fleet_config.h"
#include "router/router_server.h"
#include "util/error.h"

namespace anychip::cli {
namespace {

struct RouteOptions {
  std::string config;
  std::vector<std::string> workers;
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string policy = "cost-slo";
  std::string api_key;
  double slo_ttft_ms = 2000;
  double slo_tpot_ms = 200;
  int max_attempts = 4;
  double health_interval = 1.0;
  double drain_timeout = 30;
  double heartbeat_ttl = 3;
  std::string etcd;
  std::string etcd_prefix = "/anychip";
};

// Values from --config fill in what the command line did not set; its workers join --worker's.
RouteOptions with_config(RouteOptions o, const router::FleetConfig& cfg, const CLI::App& cmd) {
  if (cfg.policy && cmd.count("--policy") == 0) o.policy = *cfg.policy;
  if (cfg.host && cmd.count("--host") == 0) o.host = *cfg.host;
  if (cfg.port && cmd.count("--port") == 0) o.port = *cfg.port;
  if (cfg.slo_ttft_ms && cmd.count("--slo-ttft-ms") == 0) o.slo_ttft_ms = *cfg.slo_ttft_ms;
  if (cfg.slo_tpot_ms && cmd.count("--slo-tpot-ms") == 0) o.slo_tpot_ms = *cfg.slo_tpot_ms;
  return o;
}

int route(const RouteOptions& cli, const CLI::App& cmd) {
  router::FleetConfig cfg;
  if (!cli.config.empty()) cfg = router::load_fleet_config(cli.config);
  const RouteOptions o = with_config(cli, cfg, cmd);
  router::RouterOptions ro;
  ro.host = o.host;
  ro.port = o.port;
  ro.api_key = o.api_key;
  ro.policy = router::parse_policy(o.policy);
  ro.slo.ttft_ms = o.slo_ttft_ms;
  ro.slo.tpot_ms = o.slo_tpot_ms;
  ro.max_attempts = o.max_attempts;
  ro.health_interval = std::chrono::milliseconds(static_cast<int64_t>(o.health_interval * 1000));
  ro.fleet.heartbeat_ttl = std::chrono::milliseconds(static_cast<int64_t>(o.heartbeat_ttl * 1000));
  if (!o.etcd.empty()) {
    router::EtcdOptions eo;
    eo.endpoint = router::normalize_etcd_endpoint(o.etcd);
    eo.prefix = router::normalize_etcd_prefix(o.etcd_prefix);
    // etcd leases count whole seconds.
    eo.lease_ttl = std::chrono::seconds(static_cast<int64_t>(std::ceil(o.heartbeat_ttl)));
    ro.etcd = eo;
  }

  const sigset_t signals = block_shutdown_signals();

  router::RouterServer srv(ro);
  for (const std::string& w : o.workers) srv.fleet().add_static(router::normalize_worker_url(w));
  for (const router::WorkerReport& w : cfg.workers) srv.fleet().add_static(w);
  const int port = srv.bind();
  srv.start_health_checks();
  srv.start_etcd_membership();
  if (ro.etcd) {
    std::fprintf(stderr, "anychip route: sharing the fleet through etcd at %s under %s\n", ro.etcd->endpoint.c_str(),
                 ro.etcd->prefix.c_str());
  }
  ListenerThread listener(srv);
  std::fprintf(stderr, "anychip route: listening on http://%s:%d (%zu static workers, policy %s)\n", o.host.c_str(), port,
               o.workers.size() + cfg.workers.size(), o.policy.c_str());
  int sig = 0;
  sigwait(&signals, &sig);
  std::fprintf(stderr, "anychip route: %s received; draining (up to %.0fs)\n", sig == SIGINT ? "SIGINT" : "SIGTERM",
               o.drain_timeout);
  srv.begin_drain();
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(o.drain_timeout * 1000));
  if (!srv.wait_idle(deadline)) std::fprintf(stderr, "anychip route: drain timeout; stopping (open streams end when their workers finish them)\n");
  listener.stop();
  return 0;
}

}  // namespace

Action add_route_command(CLI::App& app) {
  auto o = std::make_shared<RouteOptions>();
  CLI::App* cmd = app.add_subcommand("route", "OpenAI-compatible router in front of many workers");
  cmd->add_option("--config", o->config, "Fleet file (YAML subset: policy, port, slo_*_ms, workers with url, price_per_hour, profile_json)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--worker", o->workers, "A worker's base URL, http://HOST:PORT (repeatable); workers may also join");
  cmd->add_option("--host", o->host, "Address to listen on");
  cmd->add_option("--port", o->port, "Port (0: any free port, printed at start)")->check(CLI::Range(0, 65535));
  cmd->add_option("--policy", o->policy, "round-robin, least-load or cost-slo")
      ->check(CLI::IsMember({"round-robin", "least-load", "cost-slo"}));
  cmd->add_option("--api-key", o->api_key, "Require 'Authorization: Bearer KEY' (forwarded to workers)");
  cmd->add_option("--slo-ttft-ms", o->slo_ttft_ms, "cost-slo: time-to-first-token target")->check(CLI::Range(1.0, 1e7));
  cmd->add_option("--slo-tpot-ms", o->slo_tpot_ms, "cost-slo: time-per-output-token target")->check(CLI::Range(1.0, 1e7));
  cmd->add_option("--max-attempts", o->max_attempts, "Workers one request may be tried on")->check(CLI::Range(1, 64));
  cmd->add_option("--health-interval", o->health_interval, "Seconds between health checks")->check(CLI::Range(0.05, 600.0));
  cmd->add_option("--drain-timeout", o->drain_timeout, "Seconds to let requests finish after SIGTERM/SIGINT")
      ->check(CLI::Range(0.0, 3600.0));
  cmd->add_option("--heartbeat-ttl", o->heartbeat_ttl,
                  "Seconds without a heartbeat (sent every second) before a joined worker is dropped (with --etcd: its lease, whole seconds)")
      ->check(CLI::Range(2.0, 3600.0));
  cmd->add_option("--etcd", o->etcd,
                  "Share the fleet with other routers through etcd at http://HOST:PORT: workers joining any of them serve all");
  cmd->add_option("--etcd-prefix", o->etcd_prefix, "Key prefix of the shared fleet in etcd");
  return [o, cmd] { return route(*o, *cmd); };
}

}  // namespace anychip::cli
