#pragma once
// The device-memory check made before a large upload: a model that does not fit is refused up
// front with both sizes, instead of failing somewhere inside an allocation.
#include <cstddef>
#include <cstdint>
#include <string>

namespace anychip::cuda {

struct MemoryInfo {
  size_t free = 0;
  size_t total = 0;
};

MemoryInfo memory_info();  // of the current device
std::string mib(uint64_t bytes);
std::string describe_free_memory();  // "N MiB free of M MiB on cuda:i"

// Throws anychip::Error when `bytes` of `what` plus `headroom` do not fit in the free memory.
void require_fits(uint64_t bytes, const std::string& what, uint64_t headroom);

}  // namespace anychip::cuda
