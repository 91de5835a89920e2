#include "router/etcd_keys.h"

#include "util/error.h"

namespace anychip::router {

std::string normalize_etcd_prefix(const std::string& prefix) {
  std::string p = prefix;
  while (!p.empty() && p.back() == '/') p.pop_back();
  if (p.empty()) throw Error("bad etcd prefix '" + prefix + "': expected a key prefix such as /anychip");
  return p + "/";
}

std::string workers_prefix(const std::string& prefix) { return prefix + "workers/"; }

std::string worker_key(const std::string& prefix, const std::string& url) { return workers_prefix(prefix) + url; }

std::optional<std::string> worker_of_key(const std::string& prefix, const std::string& key) {
  const std::string p = workers_prefix(prefix);
  if (key.size() <= p.size() || key.compare(0, p.size(), p) != 0) return std::nullopt;
  return key.substr(p.size());
}

}  // namespace anychip::router
