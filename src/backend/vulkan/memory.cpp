#include "backend/vulkan/memory.h"

#include <string>

#include "backend/vulkan/vk_check.h"
#include "util/error.h"

namespace anychip::vulkan {
namespace {

// The first memory type allowed by `bits` with all of `wanted`, or -1.
int find_type(const VkPhysicalDeviceMemoryProperties& mem, uint32_t bits, VkMemoryPropertyFlags wanted) {
  for (uint32_t i = 0; i < mem.memoryTypeCount; ++i) {
    if ((bits & (1u << i)) && (mem.memoryTypes[i].propertyFlags & wanted) == wanted) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

GpuBuffer::GpuBuffer(const Context& ctx, size_t bytes, Placement placement) : ctx_(ctx), size_(bytes) {
  // Zero-sized buffers are invalid in Vulkan; keep a small one so every tensor has a handle.
  const VkDeviceSize alloc_bytes = bytes < 16 ? 16 : (bytes + 15) / 16 * 16;
  VkBufferCreateInfo bci{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  bci.size = alloc_bytes;
  bci.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  bci.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  check(vkCreateBuffer(ctx.device(), &bci, nullptr, &buffer_), "vkCreateBuffer");

  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(ctx.device(), buffer_, &req);
  const auto& mem = ctx.memory();
  constexpr VkMemoryPropertyFlags kHost = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  constexpr VkMemoryPropertyFlags kCached = VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
  int type = -1;
  if (placement == Placement::Device) {
    // Device memory is mapped only where the host reaches it through its caches (unified memory:
    // integrated GPUs, lavapipe). A discrete GPU's host-visible VRAM (resizable BAR) is read by
    // the CPU uncached across PCIe, which made every logits read cost milliseconds, and without
    // resizable BAR it is a 256 MiB heap that cannot hold a model; staging copies are far faster.
    type = find_type(mem, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | kHost | kCached);
    if (type < 0) type = find_type(mem, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
  }
  // Uploads and staging: cached host memory first, since results are read back through it.
  if (type < 0) type = find_type(mem, req.memoryTypeBits, kHost | kCached);
  if (type < 0) type = find_type(mem, req.memoryTypeBits, kHost);
  if (type < 0) {
    vkDestroyBuffer(ctx.device(), buffer_, nullptr);
    throw Error("vulkan: no suitable memory type for a buffer of " + std::to_string(bytes) + " bytes");
  }
  VkMemoryAllocateInfo mai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  mai.allocationSize = req.size;
  mai.memoryTypeIndex = static_cast<uint32_t>(type);
  VkResult r = vkAllocateMemory(ctx.device(), &mai, nullptr, &memory_);
  if (r != VK_SUCCESS) {
    vkDestroyBuffer(ctx.device(), buffer_, nullptr);
    throw Error("vulkan: allocating " + std::to_string(bytes >> 20) + " MiB of device memory failed: " + result_name(r));
  }
  r = vkBindBufferMemory(ctx.device(), buffer_, memory_, 0);
  if (r == VK_SUCCESS && (mem.memoryTypes[type].propertyFlags & kHost) == kHost) {
    void* p = nullptr;
    r = vkMapMemory(ctx.device(), memory_, 0, VK_WHOLE_SIZE, 0, &p);
    mapped_ = static_cast<uint8_t*>(p);
  }
  if (r != VK_SUCCESS) {
    vkFreeMemory(ctx.device(), memory_, nullptr);
    vkDestroyBuffer(ctx.device(), buffer_, nullptr);
    check(r, "binding or mapping buffer memory");
  }
}

GpuBuffer::~GpuBuffer() {
  if (mapped_) vkUnmapMemory(ctx_.device(), memory_);
  vkDestroyBuffer(ctx_.device(), buffer_, nullptr);
  vkFreeMemory(ctx_.device(), memory_, nullptr);
}

}  // namespace anychip::vulkan
