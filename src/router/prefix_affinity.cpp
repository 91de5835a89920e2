#include "router/prefix_affinity.h"

#include <algorithm>

namespace anychip::router {

std::map<std::string, int> PrefixAffinity::cached_blocks(const std::vector<uint64_t>& keys) const {
  std::map<std::string, int> out;
  std::lock_guard lock(mu_);
  // Longest prefix first: a worker's first hit is the most it holds.
  for (size_t i = keys.size(); i-- > 0;) {
    auto it = holders_.find(keys[i]);
    if (it == holders_.end()) continue;
    for (const std::string& w : it->second) out.emplace(w, static_cast<int>(i + 1));
  }
  return out;
}

void PrefixAffinity::record(const std::vector<uint64_t>& keys, const std::string& worker) {
  if (capacity_ == 0) return;
  std::lock_guard lock(mu_);
  for (uint64_t key : keys) {
    auto [it, inserted] = holders_.try_emplace(key);
    std::vector<std::string>& h = it->second;
    h.erase(std::remove(h.begin(), h.end(), worker), h.end());
    h.insert(h.begin(), worker);
    if (h.size() > kMaxHolders) h.pop_back();
    if (inserted) order_.push_back(key);
  }
  while (holders_.size() > capacity_) {
    holders_.erase(order_.front());
    order_.pop_front();
  }
}

}  // namespace anychip::router
