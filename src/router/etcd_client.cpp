#include "router/etcd_client.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "router/base64.h"

namespace anychip::router {
namespace {

using json = nlohmann::json;

}  // namespace

std::string normalize_etcd_endpoint(const std::string& url) {
  std::string u = url;
  while (!u.empty() && u.back() == '/') u.pop_back();
  const size_t host = u.rfind("http://", 0) == 0 ? 7 : std::string::npos;
  if (host == std::string::npos || host >= u.size() || u.find_first_of("/ @?#", host) != std::string::npos) {
    throw Error("bad etcd URL '" + url + "': expected http://HOST:PORT (an etcd client URL)");
  }
  return u;
}

std::string prefix_range_end(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // etcd: every key from the start key on
}

int64_t etcd_int(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return 0;
  const json& v = j[key];
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string()) {
    try {
      size_t used = 0;
      const int64_t n = std::stoll(v.get<std::string>(), &used);
      if (used == v.get_ref<const std::string&>().size()) return n;
    } catch (const std::exception&) {
    }
  }
  throw EtcdError("etcd answered a non-integer '" + std::string(key) + "': " + v.dump());
}

EtcdClient::EtcdClient(const std::string& endpoint, std::chrono::milliseconds timeout)
    : endpoint_(normalize_etcd_endpoint(endpoint)), http_(std::make_unique<httplib::Client>(endpoint_)) {
  const auto ms = timeout.count();
  http_->set_connection_timeout(ms / 1000, (ms % 1000) * 1000);
  http_->set_read_timeout(ms / 1000, (ms % 1000) * 1000);
  http_->set_write_timeout(ms / 1000, (ms % 1000) * 1000);
}

EtcdClient::~EtcdClient() = default;

json EtcdClient::call(const std::string& path, const json& body) {
  const auto res = http_->Post(path, body.dump(), "application/json");
  if (!res) throw EtcdError("etcd at " + endpoint_ + ": " + path + ": no answer (" + httplib::to_string(res.error()) + ")");
  json j = json::parse(res->body, nullptr, false);
  if (res->status != 200) {
    const std::string why = j.is_object() && j.contains("message") && j["message"].is_string()
                                ? j["message"].get<std::string>()
                                : res->body.substr(0, 200);
    throw EtcdError("etcd at " + endpoint_ + ": " + path + ": HTTP " + std::to_string(res->status) + ": " + why);
  }
  if (!j.is_object()) throw EtcdError("etcd at " + endpoint_ + ": " + path + ": the answer is not a JSON object");
  return j;
}

int64_t EtcdClient::grant_lease(int64_t ttl_s) {
  const json j = call("/v3/lease/grant", {{"TTL", std::to_string(ttl_s)}});
  const int64_t id = etcd_int(j, "ID");
  if (id == 0) throw EtcdError("etcd at " + endpoint_ + " granted no lease: " + j.dump());
  return id;
}

int64_t EtcdClient::keep_alive(int64_t lease) {
  // A stream in gRPC; through the gateway one request, one {"result": ...} answer. An unknown
  // lease comes back without a TTL.
  const json j = call("/v3/lease/keepalive", {{"ID", std::to_string(lease)}});
  return j.contains("result") ? etcd_int(j["result"], "TTL") : 0;
}

void EtcdClient::put(const std::string& key, const std::string& value, int64_t lease) {
  json body = {{"key", base64_encode(key)}, {"value", base64_encode(value)}};
  if (lease != 0) body["lease"] = std::to_string(lease);
  call("/v3/kv/put", body);
}

EtcdListing EtcdClient::list_prefix(const std::string& prefix) {
  const json j = call("/v3/kv/range", {{"key", base64_encode(prefix)}, {"range_end", base64_encode(prefix_range_end(prefix))}});
  EtcdListing out;
  out.revision = j.contains("header") ? etcd_int(j["header"], "revision") : 0;
  if (!j.contains("kvs")) return out;  // none: the gateway leaves empty fields out
  if (!j["kvs"].is_array()) throw EtcdError("etcd at " + endpoint_ + ": /v3/kv/range: 'kvs' is not an array");
  for (const json& kv : j["kvs"]) {
    const auto key = kv.is_object() && kv.contains("key") && kv["key"].is_string()
                         ? base64_decode(kv["key"].get<std::string>())
                         : std::nullopt;
    const auto value = kv.is_object() && kv.contains("value") && kv["value"].is_string()
                           ? base64_decode(kv["value"].get<std::string>())
                           : std::optional<std::string>("");
    if (!key || !value) throw EtcdError("etcd at " + endpoint_ + ": /v3/kv/range: a malformed key or value");
    out.kvs.push_back({*key, *value});
  }
  return out;
}

}  // namespace anychip::router
