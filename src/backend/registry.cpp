#include "backend/registry.h"

#include <thread>

#include "backend/cpu/cpu_device.h"
#ifdef ANYCHIP_HAVE_VULKAN
#include "backend/vulkan/vulkan_backend.h"
#endif
#include "util/error.h"

namespace anychip::backend {

const char* op_name(Op op) {
  switch (op) {
    case Op::GetRows: return "get_rows";
    case Op::MatMul: return "matmul";
    case Op::RmsNorm: return "rms_norm";
    case Op::Rope: return "rope";
    case Op::Attention: return "attention";
    case Op::SwiGlu: return "swiglu";
    case Op::Add: return "add";
    case Op::AddBias: return "add_bias";
  }
  return "?";
}

namespace {

#ifdef ANYCHIP_HAVE_VULKAN
constexpr const char* kAvailable = "cpu, vulkan[:N]";
#else
constexpr const char* kAvailable = "cpu";
#endif

// "kind" -> 0, "kind:N" -> N.
[[maybe_unused]] int device_index(const std::string& spec) {
  const size_t colon = spec.find(':');
  if (colon == std::string::npos) return 0;
  const std::string n = spec.substr(colon + 1);
  if (n.empty() || n.size() > 4 || n.find_first_not_of("0123456789") != std::string::npos) {
    throw Error("bad device index in '" + spec + "' (expected e.g. vulkan:0)");
  }
  return std::stoi(n);
}

}  // namespace

std::unique_ptr<Device> create_device(const std::string& spec, const DeviceOptions& options) {
  const std::string kind = spec.substr(0, spec.find(':'));
  if (kind == "cpu") return std::make_unique<cpu::CpuDevice>(options.threads);
#ifdef ANYCHIP_HAVE_VULKAN
  if (kind == "vulkan") return vulkan::create_device(device_index(spec));
#endif
  throw Error("unknown or unavailable device '" + spec + "' (available: " + kAvailable + ")");
}

std::vector<DeviceInfo> list_devices() {
  std::vector<DeviceInfo> out = {cpu::describe_host_cpu(static_cast<int>(std::thread::hardware_concurrency()))};
#ifdef ANYCHIP_HAVE_VULKAN
  for (DeviceInfo& d : vulkan::list_devices()) out.push_back(std::move(d));
#endif
  return out;
}

}  // namespace anychip::backend
