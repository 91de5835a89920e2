#pragma once
// GPU time per dispatch label, from timestamps the stream writes between dispatches when
// ANYCHIP_VULKAN_TIMING=1. Unlike `bench --profile`, which waits after every op and so measures
// submit latency, this keeps the normal one-submission-per-flush batching and reads the GPU clock.
#include <cstdint>
#include <string>
#include <vector>

namespace anychip::vulkan {

struct TimingStats {
  struct Label {
    std::string name;     // shader, or shader plus weight type and shape for matvec; "copy", "fill_zero"
    uint64_t calls = 0;
    double gpu_ns = 0;    // from the timestamp before the command to the one after its barrier
  };
  bool enabled = false;            // ANYCHIP_VULKAN_TIMING=1 and the compute queue writes timestamps
  std::vector<Label> labels;       // in the order first seen
  uint64_t flushes = 0;            // submissions timed
  double gpu_busy_ns = 0;          // summed per flush: last timestamp minus first
  double record_host_ns = 0;       // summed per flush: host time from the first command recorded to the submit
  double submit_wait_host_ns = 0;  // summed per flush: host time of vkQueueSubmit plus the fence wait
};

// The table printed at device teardown: labels by GPU time, then the totals.
std::string format_timing(const TimingStats& s);

}  // namespace anychip::vulkan
