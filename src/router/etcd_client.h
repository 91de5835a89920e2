#pragma once
// A small client for etcd's v3 API through its JSON gateway (POST /v3/..., as etcd 3.4 serves it
// on the client port): leases, put, prefix listing. Keys and values travel base64-encoded and
// 64-bit integers as decimal strings; this class hides both. One instance serves one thread.
// Every failure (no answer, an error status, a malformed answer) throws EtcdError naming the
// endpoint and the call; nothing waits longer than the timeouts.
#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "util/error.h"

namespace httplib {
class Client;
}

namespace anychip::router {

class EtcdError : public Error {
 public:
  using Error::Error;
};

struct EtcdKeyValue {
  std::string key;
  std::string value;
};

struct EtcdListing {
  int64_t revision = 0;  // the store's revision the listing reflects: watch from revision + 1
  std::vector<EtcdKeyValue> kvs;
};

class EtcdClient {
 public:
  // endpoint: http://HOST:PORT of an etcd member (throws anychip::Error for anything else).
  explicit EtcdClient(const std::string& endpoint, std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  const std::string& endpoint() const { return endpoint_; }

  // A new lease of ttl_s seconds; returns its id.
  int64_t grant_lease(int64_t ttl_s);
  // Renews a lease; returns the TTL it has again, 0 when it no longer exists.
  int64_t keep_alive(int64_t lease);
  // lease 0: the key lives until deleted.
  void put(const std::string& key, const std::string& value, int64_t lease = 0);
  EtcdListing list_prefix(const std::string& prefix);

  // POSTs a gateway call and returns its JSON answer (for what the methods above do not cover).
  nlohmann::json call(const std::string& path, const nlohmann::json& body);

 private:
  std::string endpoint_;
  std::unique_ptr<httplib::Client> http_;
};

// "http://HOST:PORT" with no path; throws anychip::Error naming the value otherwise.
std::string normalize_etcd_endpoint(const std::string& url);
// The end of etcd's key range holding every key that starts with prefix.
std::string prefix_range_end(const std::string& prefix);
// An int64 the gateway sends as a decimal string (or, defensively, a number); 0 when absent.
int64_t etcd_int(const nlohmann::json& j, const char* key);

}  // namespace anychip::router
