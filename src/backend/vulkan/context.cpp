#include "backend/vulkan/context.h"

#include <cstring>
#include <string>

#include "backend/vulkan/vk_check.h"
#include "util/error.h"

namespace anychip::vulkan {
namespace {

VkInstance create_instance() {
  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = "anychip";
  app.pEngineName = "anychip";
  app.apiVersion = VK_API_VERSION_1_2;  // what we ask for; devices at 1.1 still work
  VkInstanceCreateInfo ci{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  ci.pApplicationInfo = &app;
  VkInstance instance = VK_NULL_HANDLE;
  check(vkCreateInstance(&ci, nullptr, &instance), "vkCreateInstance");
  return instance;
}

int compute_queue_family(VkPhysicalDevice pd) {
  uint32_t n = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, nullptr);
  std::vector<VkQueueFamilyProperties> families(n);
  vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, families.data());
  for (uint32_t i = 0; i < n; ++i) {
    if (families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) return static_cast<int>(i);
  }
  return -1;
}

// Physical devices usable for compute, in the driver's order: the indices of vulkan:N.
std::vector<VkPhysicalDevice> compute_devices(VkInstance instance) {
  uint32_t n = 0;
  check(vkEnumeratePhysicalDevices(instance, &n, nullptr), "vkEnumeratePhysicalDevices");
  std::vector<VkPhysicalDevice> all(n);
  check(vkEnumeratePhysicalDevices(instance, &n, all.data()), "vkEnumeratePhysicalDevices");
  std::vector<VkPhysicalDevice> out;
  for (VkPhysicalDevice pd : all) {
    if (compute_queue_family(pd) >= 0) out.push_back(pd);
  }
  return out;
}

const char* vendor_name(uint32_t id) {
  switch (id) {
    case 0x10DE: return "NVIDIA";
    case 0x1002: return "AMD";
    case 0x8086: return "Intel";
    case 0x13B5: return "ARM";
    case 0x5143: return "Qualcomm";
    case 0x106B: return "Apple";
    case 0x10005: return "Mesa";
    default: return "unknown";
  }
}

backend::DeviceInfo describe(VkPhysicalDevice pd, int index) {
  VkPhysicalDeviceProperties props;
  vkGetPhysicalDeviceProperties(pd, &props);
  VkPhysicalDeviceMemoryProperties mem;
  vkGetPhysicalDeviceMemoryProperties(pd, &mem);
  backend::DeviceInfo info;
  info.backend = "vulkan";
  info.name = props.deviceName;
  info.vendor = vendor_name(props.vendorID);
  info.index = index;
  for (uint32_t i = 0; i < mem.memoryHeapCount; ++i) {
    if (mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) {
      info.memory_bytes = std::max<uint64_t>(info.memory_bytes, mem.memoryHeaps[i].size);
    }
  }
  info.threads = 1;
  return info;
}

bool has_extension(VkPhysicalDevice pd, const char* name) {
  uint32_t n = 0;
  vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, nullptr);
  std::vector<VkExtensionProperties> exts(n);
  vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, exts.data());
  for (const auto& e : exts) {
    if (std::strcmp(e.extensionName, name) == 0) return true;
  }
  return false;
}

}  // namespace

Context::Context(int index) {
  instance_ = create_instance();
  try {
    const auto devices = compute_devices(instance_);
    if (devices.empty()) throw Error("vulkan: no Vulkan device with a compute queue was found");
    if (index < 0 || index >= static_cast<int>(devices.size())) {
      throw Error("vulkan: no device vulkan:" + std::to_string(index) + " (" + std::to_string(devices.size()) +
                  " found; see `anychip info --devices`)");
    }
    physical_ = devices[static_cast<size_t>(index)];
    vkGetPhysicalDeviceProperties(physical_, &props_);
    vkGetPhysicalDeviceMemoryProperties(physical_, &memory_);
    info_ = describe(physical_, index);
    if (props_.apiVersion < VK_API_VERSION_1_1) {
      throw Error("vulkan: device '" + info_.name + "' supports only Vulkan " + std::to_string(VK_API_VERSION_MAJOR(props_.apiVersion)) +
                  "." + std::to_string(VK_API_VERSION_MINOR(props_.apiVersion)) + "; anychip needs 1.1");
    }
    queue_family_ = static_cast<uint32_t>(compute_queue_family(physical_));
    {
      uint32_t n = 0;
      vkGetPhysicalDeviceQueueFamilyProperties(physical_, &n, nullptr);
      std::vector<VkQueueFamilyProperties> families(n);
      vkGetPhysicalDeviceQueueFamilyProperties(physical_, &n, families.data());
      timestamp_bits_ = families[queue_family_].timestampValidBits;
    }

    // What the device offers...
    VkPhysicalDeviceSubgroupProperties subgroup{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceProperties2 props2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
    props2.pNext = &subgroup;
    vkGetPhysicalDeviceProperties2(physical_, &props2);
    const bool has8_ext = props_.apiVersion >= VK_API_VERSION_1_2 || has_extension(physical_, "VK_KHR_8bit_storage");
    VkPhysicalDevice8BitStorageFeatures s8{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES};
    VkPhysicalDevice16BitStorageFeatures s16{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
    s16.pNext = has8_ext ? &s8 : nullptr;
    VkPhysicalDeviceFeatures2 f2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    f2.pNext = &s16;
    vkGetPhysicalDeviceFeatures2(physical_, &f2);

    // ...minus what ANYCHIP_VULKAN_DISABLE turns off.
    const Features off = disabled_from_env();
    const VkSubgroupFeatureFlags needed = VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_ARITHMETIC_BIT;
    features_.subgroup = !off.subgroup && (subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                         (subgroup.supportedOperations & needed) == needed;
    features_.storage16 = !off.storage16 && s16.storageBuffer16BitAccess;
    features_.storage8 = !off.storage8 && has8_ext && s8.storageBuffer8BitAccess;

    // Enable exactly the features in use, so a shader variant that needs one we did not ask for
    // is caught by the validation layers rather than silently working on a lenient driver.
    VkPhysicalDevice8BitStorageFeatures en8{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES};
    en8.storageBuffer8BitAccess = features_.storage8 ? VK_TRUE : VK_FALSE;
    VkPhysicalDevice16BitStorageFeatures en16{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
    en16.storageBuffer16BitAccess = features_.storage16 ? VK_TRUE : VK_FALSE;
    en16.pNext = features_.storage8 ? &en8 : nullptr;
    std::vector<const char*> extensions;
    if (features_.storage8 && props_.apiVersion < VK_API_VERSION_1_2) extensions.push_back("VK_KHR_8bit_storage");

    const float priority = 1.0f;
    VkDeviceQueueCreateInfo qci{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
    qci.queueFamilyIndex = queue_family_;
    qci.queueCount = 1;
    qci.pQueuePriorities = &priority;
    VkDeviceCreateInfo dci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
    dci.pNext = &en16;
    dci.queueCreateInfoCount = 1;
    dci.pQueueCreateInfos = &qci;
    dci.enabledExtensionCount = static_cast<uint32_t>(extensions.size());
    dci.ppEnabledExtensionNames = extensions.data();
    check(vkCreateDevice(physical_, &dci, nullptr, &device_), "vkCreateDevice");
    vkGetDeviceQueue(device_, queue_family_, 0, &queue_);
  } catch (...) {
    vkDestroyInstance(instance_, nullptr);
    throw;
  }
}

Context::~Context() {
  if (device_) vkDestroyDevice(device_, nullptr);
  vkDestroyInstance(instance_, nullptr);
}

std::vector<backend::DeviceInfo> list_devices() {
  std::vector<backend::DeviceInfo> out;
  VkInstance instance = VK_NULL_HANDLE;
  try {
    instance = create_instance();
    const auto devices = compute_devices(instance);
    for (size_t i = 0; i < devices.size(); ++i) out.push_back(describe(devices[i], static_cast<int>(i)));
  } catch (const Error&) {
    // No loader, driver or device: there is simply nothing to list.
  }
  if (instance) vkDestroyInstance(instance, nullptr);
  return out;
}

}  // namespace anychip::vulkan
