#include "server/fleet_join.h"

#include <httplib.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "util/error.h"

namespace anychip::server {

FleetMember::FleetMember(JoinOptions options, nlohmann::json registration, std::function<nlohmann::json()> load)
    : options_(std::move(options)), registration_(std::move(registration)), load_(std::move(load)) {
  thread_ = std::thread([this] { loop(); });
}

FleetMember::~FleetMember() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool FleetMember::post(const std::string& router, const std::string& path, const nlohmann::json& body, int* status) {
  httplib::Client cli(router);
  cli.set_connection_timeout(1);
  cli.set_read_timeout(2);
  cli.set_keep_alive(false);
  httplib::Headers headers;
  if (!options_.api_key.empty()) headers.emplace("Authorization", "Bearer " + options_.api_key);
  const auto res = cli.Post(path, headers, body.dump(), "application/json");
  *status = res ? res->status : 0;
  return res && res->status == 200;
}

void FleetMember::loop() {
  const size_t routers = options_.router_urls.size();
  size_t current = 0;  // the router talked to
  size_t silent = 0;   // routers in a row that did not answer
  bool registered = false;
  bool warned = false;  // one line per outage, not one a second
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    const std::string& router = options_.router_urls[current];
    int status = 0;
    if (!registered) {
      registered = post(router, "/v1/fleet/register", registration_, &status);
      if (registered) {
        std::fprintf(stderr, "anychip serve: joined the fleet at %s as %s\n", router.c_str(),
                     registration_.value("url", "").c_str());
        warned = false;
      }
    } else {
      nlohmann::json beat = load_();
      beat["url"] = registration_["url"];
      if (!post(router, "/v1/fleet/heartbeat", beat, &status)) {
        registered = false;  // 404: the router forgot us; no answer: register once it is back
      }
    }
    if (status == 404) {
      // Normal after a router restart: it lists us from etcd (or not at all) but has no heartbeat.
      std::fprintf(stderr, "anychip serve: the router at %s does not know this worker; registering again\n", router.c_str());
    } else if (status != 200 && !warned) {
      std::fprintf(stderr, "anychip serve: cannot reach the router at %s (%s); %s\n", router.c_str(),
                   status == 0 ? "no answer" : ("HTTP " + std::to_string(status)).c_str(),
                   routers > 1 && status == 0 ? "trying the next" : "retrying");
      warned = true;
    }
    // No answer: that router is gone, try the next one at once (each once before waiting).
    bool retry_now = false;
    if (status == 0 && routers > 1) {
      current = (current + 1) % routers;
      registered = false;
      retry_now = ++silent < routers;
    } else {
      silent = 0;
    }
    lock.lock();
    if (!retry_now) cv_.wait_for(lock, options_.interval, [this] { return stop_; });
  }
}

std::string normalize_router_url(const std::string& url) {
  std::string u = url;
  while (!u.empty() && u.back() == '/') u.pop_back();
  const size_t host = u.rfind("http://", 0) == 0 ? 7 : u.rfind("https://", 0) == 0 ? 8 : std::string::npos;
  if (host == std::string::npos || host >= u.size() || u.find_first_of("/ @?#", host) != std::string::npos) {
    throw Error("bad router URL '" + url + "' for --join: expected http://HOST:PORT");
  }
  return u;
}

nlohmann::json load_profile_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read the profile file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_object() && j.contains("profile")) j = j["profile"];
  if (!j.is_array() || j.empty()) {
    throw Error("the profile file " + path + " is not `anychip bench --batch 1,8,16 --json` output (no \"profile\" array)");
  }
  for (const auto& p : j) {
    if (!p.is_object() || !p.contains("batch") || !p.contains("decode_tok_s")) {
      throw Error("the profile file " + path + " has a point without batch/decode_tok_s");
    }
  }
  return j;
}

}  // namespace anychip::server
