#include "router/etcd_watch.h"

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "router/base64.h"
#include "router/etcd_client.h"

namespace anychip::router {
namespace {

using json = nlohmann::json;

std::optional<std::string> decoded(const json& kv, const char* field) {
  if (!kv.contains(field)) return std::string();  // the gateway leaves empty fields out
  if (!kv[field].is_string()) return std::nullopt;
  return base64_decode(kv[field].get<std::string>());
}

}  // namespace

EtcdWatch::EtcdWatch(const std::string& endpoint, std::chrono::seconds idle_timeout)
    : endpoint_(normalize_etcd_endpoint(endpoint)),
      idle_timeout_(idle_timeout),
      http_(std::make_unique<httplib::Client>(endpoint_)) {
  http_->set_connection_timeout(2);
  http_->set_read_timeout(static_cast<time_t>(idle_timeout.count()));
  http_->set_keep_alive(false);
}

EtcdWatch::~EtcdWatch() = default;

void EtcdWatch::stop() {
  stopped_.store(true);
  http_->stop();  // unblocks a read in progress; a request not yet started sees stopped_
}

void EtcdWatch::handle(const std::string& line, const std::function<void(const EtcdEvent&)>& on_event) {
  const json j = json::parse(line, nullptr, false);
  if (!j.is_object()) throw EtcdError("etcd at " + endpoint_ + ": /v3/watch sent a malformed message");
  if (j.contains("error")) {
    const json& e = j["error"];
    const std::string why = e.is_object() && e.contains("message") ? e["message"].dump() : e.dump();
    throw EtcdError("etcd at " + endpoint_ + ": /v3/watch failed: " + why);
  }
  if (!j.contains("result") || !j["result"].is_object()) return;
  const json& r = j["result"];
  if (r.contains("canceled") && r["canceled"] == true) {
    throw EtcdError("etcd at " + endpoint_ + " cancelled the watch (compacted to revision " +
                    std::to_string(etcd_int(r, "compact_revision")) + ")");
  }
  if (!r.contains("events") || !r["events"].is_array()) return;  // created, or a progress note
  for (const json& ev : r["events"]) {
    if (!ev.is_object() || !ev.contains("kv") || !ev["kv"].is_object()) continue;
    EtcdEvent out;
    // The gateway leaves enum defaults out: no "type" is a PUT.
    out.deleted = ev.contains("type") && ev["type"] == "DELETE";
    const auto key = decoded(ev["kv"], "key");
    const auto value = decoded(ev["kv"], "value");
    if (!key || !value || key->empty()) throw EtcdError("etcd at " + endpoint_ + ": /v3/watch sent a malformed event");
    out.key = *key;
    out.value = out.deleted ? std::string() : *value;
    on_event(out);
  }
}

bool EtcdWatch::run(const std::string& prefix, int64_t start_revision,
                    const std::function<void(const EtcdEvent&)>& on_event) {
  if (stopped_.load()) return true;
  json create = {{"key", base64_encode(prefix)}, {"range_end", base64_encode(prefix_range_end(prefix))}};
  if (start_revision > 0) create["start_revision"] = std::to_string(start_revision);
  httplib::Request req;
  req.method = "POST";
  req.path = "/v3/watch";
  req.body = json{{"create_request", create}}.dump();
  req.set_header("Content-Type", "application/json");
  int status = 0;
  std::string pending, failure;
  req.response_handler = [&](const httplib::Response& r) {
    status = r.status;
    return !stopped_.load();
  };
  auto last_message = std::chrono::steady_clock::now();
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    if (stopped_.load()) return false;
    last_message = std::chrono::steady_clock::now();
    pending.append(data, n);
    if (status != 200) return pending.size() < 4096;  // an error body: keep a bit for the message
    for (size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
      const std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      if (line.find_first_not_of(" \r\t") == std::string::npos) continue;
      try {
        handle(line, on_event);
      } catch (const EtcdError& e) {
        failure = e.what();
        return false;
      }
    }
    return true;
  };
  const httplib::Result res = http_->send(req);
  if (stopped_.load()) return true;
  if (!failure.empty()) throw EtcdError(failure);
  if (status != 0 && status != 200) {
    throw EtcdError("etcd at " + endpoint_ + ": /v3/watch: HTTP " + std::to_string(status) + ": " + pending.substr(0, 200));
  }
  const bool idle = std::chrono::steady_clock::now() - last_message >= idle_timeout_ - std::chrono::seconds(1);
  if (res.error() == httplib::Error::Read && idle) return false;
  if (res.error() != httplib::Error::Success) {
    throw EtcdError("etcd at " + endpoint_ + ": /v3/watch: " + httplib::to_string(res.error()));
  }
  throw EtcdError("etcd at " + endpoint_ + " ended the watch stream");
}

}  // namespace anychip::router
