#include "router/health_checker.h"

#include <httplib.h>

#include <cstdio>
#include <nlohmann/json.hpp>

namespace anychip::router {

bool probe_worker(const std::string& url, const std::string& api_key, std::vector<std::string>& models) {
  httplib::Client cli(url);
  // Short timeouts: a hung worker must not delay the verdicts on the others for long.
  cli.set_connection_timeout(1);
  cli.set_read_timeout(2);
  cli.set_keep_alive(false);
  const auto health = cli.Get("/health");
  if (!health || health->status != 200) return false;
  httplib::Headers headers;
  if (!api_key.empty()) headers.emplace("Authorization", "Bearer " + api_key);
  const auto list = cli.Get("/v1/models", headers);
  if (list && list->status == 200) {
    const auto j = nlohmann::json::parse(list->body, nullptr, false);
    if (j.is_object() && j.contains("data") && j["data"].is_array()) {
      for (const auto& m : j["data"]) {
        if (m.is_object() && m.contains("id") && m["id"].is_string()) models.push_back(m["id"].get<std::string>());
      }
    }
  }
  return true;
}

HealthChecker::HealthChecker(Fleet& fleet, std::chrono::milliseconds interval, std::string api_key)
    : fleet_(fleet), interval_(interval), api_key_(std::move(api_key)) {
  check_all();
  thread_ = std::thread([this] { loop(); });
}

HealthChecker::~HealthChecker() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void HealthChecker::check_all() {
  for (const std::string& url : fleet_.static_urls()) {
    std::vector<std::string> models;
    const bool ok = probe_worker(url, api_key_, models);
    fleet_.health_result(url, ok, models);
  }
  for (const std::string& url : fleet_.expire(Clock::now())) {
    std::fprintf(stderr, "anychip route: worker %s dropped (no heartbeat)\n", url.c_str());
  }
}

void HealthChecker::loop() {
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, interval_, [this] { return stop_; })) {
    lock.unlock();
    check_all();
    lock.lock();
  }
}

}  // namespace anychip::router
