#include "backend/vulkan/timing_stats.h"

#include <algorithm>
#include <cstdio>

namespace anychip::vulkan {

std::string format_timing(const TimingStats& s) {
  std::vector<const TimingStats::Label*> rows;
  double labelled_ns = 0;
  uint64_t calls = 0;
  for (const auto& l : s.labels) {
    rows.push_back(&l);
    labelled_ns += l.gpu_ns;
    calls += l.calls;
  }
  std::stable_sort(rows.begin(), rows.end(), [](const auto* a, const auto* b) { return a->gpu_ns > b->gpu_ns; });
  std::string out;
  char line[256];
  auto add = [&](const char* fmt, auto... args) {
    std::snprintf(line, sizeof line, fmt, args...);
    out += line;
  };
  add("vulkan GPU timing (ANYCHIP_VULKAN_TIMING=1): %llu flushes, %llu timed commands\n",
      static_cast<unsigned long long>(s.flushes), static_cast<unsigned long long>(calls));
  add("  %-36s %9s %11s %10s %7s\n", "label", "calls", "total ms", "mean us", "share");
  for (const auto* l : rows) {
    add("  %-36s %9llu %11.3f %10.2f %6.1f%%\n", l->name.c_str(), static_cast<unsigned long long>(l->calls),
        l->gpu_ns * 1e-6, l->calls ? l->gpu_ns * 1e-3 / static_cast<double>(l->calls) : 0.0,
        labelled_ns > 0 ? 100.0 * l->gpu_ns / labelled_ns : 0.0);
  }
  const double per_flush = s.flushes ? 1.0 / static_cast<double>(s.flushes) : 0.0;
  // Busy time counts from the command buffer's first timestamp, so it also holds the gaps before
  // the first command and any GPU idle between commands; labelled time is only the commands.
  add("  GPU busy (first to last timestamp)  %11.3f ms  (%.3f ms per flush)\n", s.gpu_busy_ns * 1e-6,
      s.gpu_busy_ns * 1e-6 * per_flush);
  add("  host recording (begin to submit)    %11.3f ms  (%.3f ms per flush)\n", s.record_host_ns * 1e-6,
      s.record_host_ns * 1e-6 * per_flush);
  add("  host submit + fence wait            %11.3f ms  (%.3f ms per flush)\n", s.submit_wait_host_ns * 1e-6,
      s.submit_wait_host_ns * 1e-6 * per_flush);
  return out;
}

}  // namespace anychip::vulkan
