#pragma once
// Instantiated CUDA graphs keyed by the exact byte signature of the launches they contain, and
// the counting that decides when a signature is worth capturing: a signature is captured the
// second time it is seen (a decode step of an unchanged batch shape repeats every token; a
// one-off prefill shape is never captured).
#include <cuda_runtime.h>

#include <cstdint>
#include <string>
#include <unordered_map>

namespace anychip::cuda {

class GraphCache {
 public:
  explicit GraphCache(size_t capacity = 32) : capacity_(capacity) {}
  ~GraphCache();
  GraphCache(const GraphCache&) = delete;
  GraphCache& operator=(const GraphCache&) = delete;

  // The graph for this signature, or null.
  cudaGraphExec_t find(const std::string& signature);
  // Counts one more sighting; true when the signature should now be captured.
  bool should_capture(const std::string& signature);
  // Takes ownership of exec; evicts the least recently used graph beyond capacity.
  void insert(const std::string& signature, cudaGraphExec_t exec);

 private:
  struct Entry {
    cudaGraphExec_t exec = nullptr;
    uint64_t last_use = 0;
  };
  size_t capacity_;
  uint64_t clock_ = 0;
  std::unordered_map<std::string, Entry> graphs_;
  std::unordered_map<size_t, int> sightings_;  // by hash: only decides when to capture
};

}  // namespace anychip::cuda
