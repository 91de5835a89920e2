#include "router/prefix_affinity.h"

namespace anychip::router {

std::optional<std::string> PrefixAffinity::lookup(uint64_t key) const {
  if (key == 0) return std::nullopt;
  std::lock_guard lock(mu_);
  auto it = map_.find(key);
  if (it == map_.end()) return std::nullopt;
  return it->second;
}

void PrefixAffinity::record(uint64_t key, const std::string& worker) {
  if (key == 0 || capacity_ == 0) return;
  std::lock_guard lock(mu_);
  auto [it, inserted] = map_.insert_or_assign(key, worker);
  if (!inserted) return;
  order_.push_back(key);
  while (map_.size() > capacity_) {
    map_.erase(order_.front());
    order_.pop_front();
  }
}

}  // namespace anychip::router
