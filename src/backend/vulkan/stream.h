#pragma once
// Records ops into one command buffer and submits it when the host needs results (synchronize,
// a buffer read or write) — the device-side half of "ops run in order as on one stream". Each
// dispatch is followed by a full compute barrier, since almost every op reads what the previous
// one wrote. Also owns the per-op host data (token ids, positions, block tables) uploaded for
// the shaders, which stays valid until the next flush.
#include <vulkan/vulkan.h>

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "backend/vulkan/context.h"
#include "backend/vulkan/memory.h"
#include "backend/vulkan/pipelines.h"
#include "backend/vulkan/timing_stats.h"

namespace anychip::vulkan {

// A byte range of a buffer.
struct Range {
  const GpuBuffer* buffer = nullptr;
  size_t offset = 0;
  size_t bytes = 0;
};

// A range as bound to a shader: the descriptor's window and the range's byte offset inside it.
// Windows start at an aligned offset and are at most maxStorageBufferRange long, so tensors in
// a buffer larger than one binding can address (a whole model file) still bind.
struct Bound {
  VkDescriptorBufferInfo info{};
  uint32_t rel = 0;
};

class Stream {
 public:
  Stream(const Context& ctx, Pipelines& pipelines);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  Bound bind(const Range& r) const;
  // Copies host data into shader-readable memory that stays valid until the next flush.
  Range upload(const void* data, size_t bytes);
  // label names the dispatch in the GPU timing table; only read when timing() is on.
  void dispatch(const char* label, VkPipeline pipeline, std::span<const Bound> bindings, const void* push,
                size_t push_bytes, uint32_t groups_x, uint32_t groups_y = 1, uint32_t groups_z = 1);
  void fill_zero(const GpuBuffer& dst);
  // Resets queries [first, first + count) of a timestamp pool, then (timestamp) writes the GPU
  // clock into one once all earlier recorded work has finished.
  void reset_queries(VkQueryPool pool, uint32_t first, uint32_t count);
  void timestamp(VkQueryPool pool, uint32_t query);
  // A host-visible buffer of at least `bytes` for staging copies, kept for the next ones: a fresh
  // allocation per read (every token's logits) costs more than the copy. Its contents are the
  // caller's until the next call.
  GpuBuffer& staging(size_t bytes);
  void copy(const GpuBuffer& src, size_t src_offset, const GpuBuffer& dst, size_t dst_offset, size_t bytes);
  // Submits everything recorded and waits for it; no-op when nothing is recorded.
  void flush();
  // Counts flushes: uploads made in an earlier epoch are gone.
  uint64_t epoch() const { return epoch_; }
  // Whether ANYCHIP_VULKAN_TIMING=1 was set when the stream was made and the queue has timestamps.
  bool timing() const { return timing_; }
  const TimingStats& timing_stats() const { return stats_; }

 private:
  void begin();
  VkDescriptorSet allocate_set();
  // Timing only: writes the next timestamp once everything recorded so far has finished; the
  // time since the previous one is charged to `label`.
  void mark(std::string_view label);
  // Timing only: reads this submission's timestamps (after its fence) into stats_.
  void collect_timestamps(std::chrono::steady_clock::time_point submit,
                          std::chrono::steady_clock::time_point done);

  const Context& ctx_;
  Pipelines& pipelines_;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  VkCommandBuffer cmd_ = VK_NULL_HANDLE;
  VkFence fence_ = VK_NULL_HANDLE;
  bool recording_ = false;
  uint64_t epoch_ = 0;
  std::vector<VkDescriptorPool> descriptor_pools_;
  size_t current_pool_ = 0;
  std::vector<std::unique_ptr<GpuBuffer>> upload_chunks_;
  size_t upload_chunk_ = 0, upload_used_ = 0;
  std::unique_ptr<GpuBuffer> staging_;
  std::unique_ptr<GpuBuffer> dummy_;  // bound to the bindings a shader does not use

  // GPU timing (ANYCHIP_VULKAN_TIMING=1); untouched when off.
  bool timing_ = false;
  std::vector<VkQueryPool> query_pools_;  // kQueriesPerPool each, added as a submission needs more
  uint32_t queries_ = 0;                  // timestamps written in the current command buffer
  std::vector<uint32_t> marked_;          // marked_[i]: label id of the work between queries i and i + 1
  // Looked up by string_view so a label costs no allocation once seen.
  struct LabelHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, uint32_t, LabelHash, std::equal_to<>> label_ids_;  // index into stats_.labels
  std::chrono::steady_clock::time_point record_start_;
  std::vector<uint64_t> query_results_;
  TimingStats stats_;
};

}  // namespace anychip::vulkan
