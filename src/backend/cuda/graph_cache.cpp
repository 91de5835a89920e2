#include "backend/cuda/graph_cache.h"

#include <functional>

namespace anychip::cuda {
namespace {
constexpr size_t kMaxSightings = 4096;  // forget old signatures rather than grow without bound
}

GraphCache::~GraphCache() {
  for (auto& [key, entry] : graphs_) cudaGraphExecDestroy(entry.exec);
}

cudaGraphExec_t GraphCache::find(const std::string& signature) {
  auto it = graphs_.find(signature);
  if (it == graphs_.end()) return nullptr;
  it->second.last_use = ++clock_;
  return it->second.exec;
}

bool GraphCache::should_capture(const std::string& signature) {
  if (sightings_.size() >= kMaxSightings) sightings_.clear();
  return ++sightings_[std::hash<std::string>{}(signature)] >= 2;
}

void GraphCache::insert(const std::string& signature, cudaGraphExec_t exec) {
  if (graphs_.size() >= capacity_) {
    auto oldest = graphs_.begin();
    for (auto it = graphs_.begin(); it != graphs_.end(); ++it) {
      if (it->second.last_use < oldest->second.last_use) oldest = it;
    }
    cudaGraphExecDestroy(oldest->second.exec);
    graphs_.erase(oldest);
  }
  graphs_[signature] = Entry{exec, ++clock_};
}

}  // namespace anychip::cuda
