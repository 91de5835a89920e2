#pragma once
// `anychip serve --join ROUTER_URL...`: registers this worker with an `anychip route` and sends a
// heartbeat with its live load about once a second, registering again whenever the router does
// not know it (the router restarted, or dropped it after missed heartbeats). Given several
// routers (replicas sharing their fleet through etcd), it talks to one at a time and moves to
// the next when that one stops answering.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace anychip::server {

struct JoinOptions {
  std::vector<std::string> router_urls;  // http://HOST:PORT of each router; at least one
  std::string api_key;      // sent to the router when set
  std::chrono::milliseconds interval{1000};
};

class FleetMember {
 public:
  // registration: the body of POST /v1/fleet/register (must hold "url"). load: the heartbeat
  // body at that moment (the "url" is added).
  FleetMember(JoinOptions options, nlohmann::json registration, std::function<nlohmann::json()> load);
  ~FleetMember();  // stops heartbeats (the router drops this worker ~3 s later)
  FleetMember(const FleetMember&) = delete;
  FleetMember& operator=(const FleetMember&) = delete;

 private:
  void loop();
  // True when the router answered 200.
  bool post(const std::string& router, const std::string& path, const nlohmann::json& body, int* status);

  JoinOptions options_;
  nlohmann::json registration_;
  std::function<nlohmann::json()> load_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// A router's base URL for --join: "http(s)://HOST:PORT" (a trailing '/' dropped); throws
// anychip::Error naming the value otherwise.
std::string normalize_router_url(const std::string& url);

// A worker profile for the registration: the "profile" array of `anychip bench --batch ...
// --json` output (the whole object or just the array). Throws anychip::Error naming the file.
nlohmann::json load_profile_file(const std::string& path);

}  // namespace anychip::server
