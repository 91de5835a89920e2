#include "backend/vulkan/stream.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "backend/vulkan/vk_check.h"
#include "util/error.h"

namespace anychip::vulkan {
namespace {

constexpr uint32_t kSetsPerPool = 512;
constexpr size_t kUploadChunkBytes = 4u << 20;
constexpr uint32_t kQueriesPerPool = 1024;  // a decode step is a few hundred dispatches

// Read once per device: the env switch costs nothing per dispatch.
bool timing_requested() {
  const char* v = std::getenv("ANYCHIP_VULKAN_TIMING");
  return v && v[0] && std::strcmp(v, "0") != 0;
}

size_t align_up(size_t v, size_t a) { return (v + a - 1) / a * a; }

}  // namespace

Stream::Stream(const Context& ctx, Pipelines& pipelines) : ctx_(ctx), pipelines_(pipelines) {
  VkCommandPoolCreateInfo pci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  pci.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  pci.queueFamilyIndex = ctx.queue_family();
  check(vkCreateCommandPool(ctx.device(), &pci, nullptr, &pool_), "vkCreateCommandPool");
  VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  ai.commandPool = pool_;
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  VkFenceCreateInfo fci{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  VkResult r = vkAllocateCommandBuffers(ctx.device(), &ai, &cmd_);
  if (r == VK_SUCCESS) r = vkCreateFence(ctx.device(), &fci, nullptr, &fence_);
  if (r != VK_SUCCESS) {
    vkDestroyCommandPool(ctx.device(), pool_, nullptr);
    check(r, "creating the command buffer");
  }
  dummy_ = std::make_unique<GpuBuffer>(ctx, 16, Placement::Device);
  if (timing_requested()) {
    timing_ = ctx.timestamp_bits() > 0 && ctx.limits().timestampPeriod > 0;
    if (!timing_) std::fprintf(stderr, "anychip: ANYCHIP_VULKAN_TIMING ignored: the compute queue has no timestamps\n");
  }
  stats_.enabled = timing_;
}

Stream::~Stream() {
  // Never throw from here: a lost device at exit is not worth a crash.
  if (recording_) {
    vkEndCommandBuffer(cmd_);
    VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
    si.commandBufferCount = 1;
    si.pCommandBuffers = &cmd_;
    if (vkQueueSubmit(ctx_.queue(), 1, &si, fence_) == VK_SUCCESS) vkWaitForFences(ctx_.device(), 1, &fence_, VK_TRUE, UINT64_MAX);
  }
  vkDeviceWaitIdle(ctx_.device());
  for (VkDescriptorPool p : descriptor_pools_) vkDestroyDescriptorPool(ctx_.device(), p, nullptr);
  for (VkQueryPool p : query_pools_) vkDestroyQueryPool(ctx_.device(), p, nullptr);
  vkDestroyFence(ctx_.device(), fence_, nullptr);
  vkDestroyCommandPool(ctx_.device(), pool_, nullptr);
}

Bound Stream::bind(const Range& r) const {
  const VkPhysicalDeviceLimits& lim = ctx_.limits();
  const size_t align = std::max<size_t>(lim.minStorageBufferOffsetAlignment, 4);
  const size_t start = r.offset / align * align;
  const size_t max_range = lim.maxStorageBufferRange;
  const size_t end = std::min(r.buffer->size() < 16 ? 16 : align_up(r.buffer->size(), 16), start + max_range / 4 * 4);
  if (r.offset + r.bytes > end) {
    throw Error("vulkan: a tensor of " + std::to_string(r.bytes) + " bytes exceeds the device's storage buffer range (" +
                std::to_string(max_range) + " bytes)");
  }
  Bound b;
  b.info = VkDescriptorBufferInfo{r.buffer->handle(), start, end - start};
  b.rel = static_cast<uint32_t>(r.offset - start);
  return b;
}

Range Stream::upload(const void* data, size_t bytes) {
  const size_t align = std::max<size_t>(ctx_.limits().minStorageBufferOffsetAlignment, 16);
  const size_t need = align_up(std::max<size_t>(bytes, 4), align);
  while (upload_chunk_ < upload_chunks_.size() && upload_used_ + need > upload_chunks_[upload_chunk_]->size()) {
    ++upload_chunk_;
    upload_used_ = 0;
  }
  if (upload_chunk_ == upload_chunks_.size()) {
    upload_chunks_.push_back(std::make_unique<GpuBuffer>(ctx_, std::max(need, kUploadChunkBytes), Placement::Host));
    upload_used_ = 0;
  }
  GpuBuffer& chunk = *upload_chunks_[upload_chunk_];
  std::memcpy(chunk.mapped() + upload_used_, data, bytes);
  Range r{&chunk, upload_used_, bytes};
  upload_used_ += need;
  return r;
}

void Stream::begin() {
  if (recording_) return;
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  check(vkBeginCommandBuffer(cmd_, &bi), "vkBeginCommandBuffer");
  recording_ = true;
  if (timing_) {
    record_start_ = std::chrono::steady_clock::now();
    queries_ = 0;
    marked_.clear();
    mark({});  // query 0: when the GPU starts on this command buffer
  }
}

void Stream::mark(std::string_view label) {
  const uint32_t q = queries_ % kQueriesPerPool;
  const size_t pool = queries_ / kQueriesPerPool;
  if (q == 0) {
    if (pool == query_pools_.size()) {
      VkQueryPoolCreateInfo ci{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
      ci.queryType = VK_QUERY_TYPE_TIMESTAMP;
      ci.queryCount = kQueriesPerPool;
      VkQueryPool p = VK_NULL_HANDLE;
      check(vkCreateQueryPool(ctx_.device(), &ci, nullptr, &p), "vkCreateQueryPool");
      query_pools_.push_back(p);
    }
    // Queries must be reset before each reuse; doing it in the command buffer (ordered before
    // the writes that follow) needs no host reset feature.
    vkCmdResetQueryPool(cmd_, query_pools_[pool], 0, kQueriesPerPool);
  }
  if (queries_ == 0) {
    vkCmdWriteTimestamp(cmd_, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, query_pools_[pool], q);
  } else {
    auto it = label_ids_.find(label);
    if (it == label_ids_.end()) {
      it = label_ids_.emplace(std::string(label), static_cast<uint32_t>(stats_.labels.size())).first;
      stats_.labels.push_back(TimingStats::Label{std::string(label)});
    }
    marked_.push_back(it->second);
    // Bottom of pipe: written once the command before (and its barrier) has completed.
    vkCmdWriteTimestamp(cmd_, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, query_pools_[pool], q);
  }
  ++queries_;
}

void Stream::collect_timestamps(std::chrono::steady_clock::time_point submit,
                                std::chrono::steady_clock::time_point done) {
  const uint32_t n = queries_;
  query_results_.resize(n);
  for (uint32_t first = 0; first < n; first += kQueriesPerPool) {
    const uint32_t count = std::min(kQueriesPerPool, n - first);
    check(vkGetQueryPoolResults(ctx_.device(), query_pools_[first / kQueriesPerPool], 0, count,
                                count * sizeof(uint64_t), query_results_.data() + first, sizeof(uint64_t),
                                VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
          "vkGetQueryPoolResults");
  }
  auto ns = [&](uint32_t a, uint32_t b) { return ctx_.timestamp_ns(query_results_[a], query_results_[b]); };
  for (uint32_t i = 0; i + 1 < n; ++i) {
    TimingStats::Label& l = stats_.labels[marked_[i]];
    ++l.calls;
    l.gpu_ns += ns(i, i + 1);
  }
  ++stats_.flushes;
  if (n > 1) stats_.gpu_busy_ns += ns(0, n - 1);
  stats_.record_host_ns += std::chrono::duration<double, std::nano>(submit - record_start_).count();
  stats_.submit_wait_host_ns += std::chrono::duration<double, std::nano>(done - submit).count();
}

VkDescriptorSet Stream::allocate_set() {
  const VkDescriptorSetLayout layout = pipelines_.set_layout();
  for (;; ++current_pool_) {
    if (current_pool_ == descriptor_pools_.size()) {
      const VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, kSetsPerPool * kBindings};
      VkDescriptorPoolCreateInfo ci{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
      ci.maxSets = kSetsPerPool;
      ci.poolSizeCount = 1;
      ci.pPoolSizes = &size;
      VkDescriptorPool pool = VK_NULL_HANDLE;
      check(vkCreateDescriptorPool(ctx_.device(), &ci, nullptr, &pool), "vkCreateDescriptorPool");
      descriptor_pools_.push_back(pool);
    }
    VkDescriptorSetAllocateInfo ai{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
    ai.descriptorPool = descriptor_pools_[current_pool_];
    ai.descriptorSetCount = 1;
    ai.pSetLayouts = &layout;
    VkDescriptorSet set = VK_NULL_HANDLE;
    const VkResult r = vkAllocateDescriptorSets(ctx_.device(), &ai, &set);
    if (r == VK_SUCCESS) return set;
    if (r != VK_ERROR_OUT_OF_POOL_MEMORY && r != VK_ERROR_FRAGMENTED_POOL) check(r, "vkAllocateDescriptorSets");
  }
}

void Stream::dispatch(const char* label, VkPipeline pipeline, std::span<const Bound> bindings, const void* push,
                      size_t push_bytes, uint32_t groups_x, uint32_t groups_y, uint32_t groups_z) {
  if (groups_x == 0 || groups_y == 0 || groups_z == 0) return;
  const auto& max = ctx_.limits().maxComputeWorkGroupCount;
  if (groups_x > max[0] || groups_y > max[1] || groups_z > max[2]) {
    throw Error("vulkan: dispatch of " + std::to_string(groups_x) + "x" + std::to_string(groups_y) + "x" +
                std::to_string(groups_z) + " workgroups exceeds the device limit");
  }
  begin();
  const VkDescriptorSet set = allocate_set();
  VkDescriptorBufferInfo infos[kBindings];
  VkWriteDescriptorSet writes[kBindings];
  for (uint32_t i = 0; i < kBindings; ++i) {
    infos[i] = i < bindings.size() ? bindings[i].info : VkDescriptorBufferInfo{dummy_->handle(), 0, VK_WHOLE_SIZE};
    writes[i] = VkWriteDescriptorSet{VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
    writes[i].dstSet = set;
    writes[i].dstBinding = i;
    writes[i].descriptorCount = 1;
    writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    writes[i].pBufferInfo = &infos[i];
  }
  vkUpdateDescriptorSets(ctx_.device(), kBindings, writes, 0, nullptr);
  vkCmdBindPipeline(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
  vkCmdBindDescriptorSets(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, pipelines_.layout(), 0, 1, &set, 0, nullptr);
  uint8_t padded[kPushBytes] = {};
  std::memcpy(padded, push, std::min<size_t>(push_bytes, kPushBytes));
  vkCmdPushConstants(cmd_, pipelines_.layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0, kPushBytes, padded);
  vkCmdDispatch(cmd_, groups_x, groups_y, groups_z);
  VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT;
  vkCmdPipelineBarrier(cmd_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                       VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0, nullptr, 0,
                       nullptr);
  if (timing_) mark(label ? label : "dispatch");
}

void Stream::fill_zero(const GpuBuffer& dst) {
  begin();
  vkCmdFillBuffer(cmd_, dst.handle(), 0, VK_WHOLE_SIZE, 0);
  VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  mb.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT;
  vkCmdPipelineBarrier(cmd_, VK_PIPELINE_STAGE_TRANSFER_BIT,
                       VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0, nullptr, 0,
                       nullptr);
  if (timing_) mark("fill_zero");
}

void Stream::reset_queries(VkQueryPool pool, uint32_t first, uint32_t count) {
  begin();
  vkCmdResetQueryPool(cmd_, pool, first, count);
}

void Stream::timestamp(VkQueryPool pool, uint32_t query) {
  begin();
  vkCmdWriteTimestamp(cmd_, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, pool, query);
}

GpuBuffer& Stream::staging(size_t bytes) {
  if (!staging_ || staging_->size() < bytes) {
    staging_.reset();  // free the old one before allocating its replacement
    staging_ = std::make_unique<GpuBuffer>(ctx_, bytes, Placement::Host);
  }
  return *staging_;
}

void Stream::copy(const GpuBuffer& src, size_t src_offset, const GpuBuffer& dst, size_t dst_offset, size_t bytes) {
  begin();
  const VkBufferCopy region{src_offset, dst_offset, bytes};
  vkCmdCopyBuffer(cmd_, src.handle(), dst.handle(), 1, &region);
  VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  mb.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                     VK_ACCESS_HOST_READ_BIT;
  vkCmdPipelineBarrier(cmd_, VK_PIPELINE_STAGE_TRANSFER_BIT,
                       VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_HOST_BIT,
                       0, 1, &mb, 0, nullptr, 0, nullptr);
  if (timing_) mark("copy");
}

void Stream::flush() {
  if (!recording_) return;
  recording_ = false;
  // Make shader and transfer writes visible to host reads of mapped memory.
  VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
  vkCmdPipelineBarrier(cmd_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                       VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, nullptr, 0, nullptr);
  check(vkEndCommandBuffer(cmd_), "vkEndCommandBuffer");
  VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cmd_;
  std::chrono::steady_clock::time_point submit;
  if (timing_) submit = std::chrono::steady_clock::now();
  check(vkQueueSubmit(ctx_.queue(), 1, &si, fence_), "vkQueueSubmit");
  check(vkWaitForFences(ctx_.device(), 1, &fence_, VK_TRUE, UINT64_MAX), "vkWaitForFences");
  if (timing_) collect_timestamps(submit, std::chrono::steady_clock::now());
  check(vkResetFences(ctx_.device(), 1, &fence_), "vkResetFences");
  check(vkResetCommandBuffer(cmd_, 0), "vkResetCommandBuffer");
  for (VkDescriptorPool p : descriptor_pools_) vkResetDescriptorPool(ctx_.device(), p, 0);
  current_pool_ = 0;
  ++epoch_;
  upload_chunk_ = 0;
  upload_used_ = 0;
}

}  // namespace anychip::vulkan
