#pragma once
// Where the fleet lives in etcd: PREFIX + "workers/" + the worker's URL, one key per worker.
#include <chrono>
#include <optional>
#include <string>

namespace anychip::router {

struct EtcdOptions {
  std::string endpoint;                   // http://HOST:PORT of an etcd member
  std::string prefix = "/anychip/";       // routers sharing a fleet use the same prefix
  std::chrono::seconds lease_ttl{3};      // a worker whose heartbeats stop is gone this long after
};

// The prefix with exactly one trailing '/'; throws anychip::Error for an empty one.
std::string normalize_etcd_prefix(const std::string& prefix);
std::string workers_prefix(const std::string& prefix);
std::string worker_key(const std::string& prefix, const std::string& url);
// The worker URL a key names; nullopt for a key outside prefix + "workers/".
std::optional<std::string> worker_of_key(const std::string& prefix, const std::string& key);

}  // namespace anychip::router
