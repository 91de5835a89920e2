#include "backend/registry.h"

#include <thread>

#include "backend/cpu/cpu_device.h"
#ifdef ANYCHIP_HAVE_CUDA
#include "backend/cuda/cuda_backend.h"
#endif
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

constexpr const char* kAvailable = "cpu"
#ifdef ANYCHIP_HAVE_CUDA
                                    ", cuda[:N]"
#endif
#ifdef ANYCHIP_HAVE_VULKAN
                                    ", vulkan[:N]"
#endif
    ;

// "kind" -> 0, "kind:N" -> N.
[[maybe_unused]] int device_index(const std::string& spec) {
  const size_t colon = spec.find(':');
  if (colon == std::string::npos) return 0;
  const std::string n = spec.substr(colon + 1);
  if (n.empty() || n.size() > 4 || n.find_first_not_of("0123456789") != std::string::npos) {
    throw Error("bad device index in '" + spec + "' (expected e.g. cuda:0 or vulkan:1)");
  }
  return std::stoi(n);
}

}  // namespace

std::unique_ptr<Device> create_device(const std::string& spec, const DeviceOptions& options) {
  const std::string kind = spec.substr(0, spec.find(':'));
  if (kind == "cpu") return std::make_unique<cpu::CpuDevice>(options.threads);
#ifdef ANYCHIP_HAVE_CUDA
  if (kind == "cuda") return cuda::create_device(device_index(spec));
#endif
#ifdef ANYCHIP_HAVE_VULKAN
  if (kind == "vulkan") return vulkan::create_device(device_index(spec));
#endif
  throw Error("unknown or unavailable device '" + spec + "' (available: " + kAvailable + ")");
}

std::vector<DeviceInfo> list_devices() {
  std::vector<DeviceInfo> out = {cpu::describe_host_cpu(static_cast<int>(std::thread::hardware_concurrency()))};
#ifdef ANYCHIP_HAVE_CUDA
  for (DeviceInfo& d : cuda::list_devices()) out.push_back(std::move(d));
#endif
#ifdef ANYCHIP_HAVE_VULKAN
  for (DeviceInfo& d : vulkan::list_devices()) out.push_back(std::move(d));
#endif
  return out;
}

std::vector<std::string> device_notes() {
  std::vector<std::string> notes;
#ifdef ANYCHIP_HAVE_CUDA
  if (const std::string reason = cuda::no_device_reason(); !reason.empty()) notes.push_back("cuda: none found (" + reason + ")");
#else
  notes.push_back("cuda: not built into this binary (needs nvcc at build time)");
#endif
#ifdef ANYCHIP_HAVE_VULKAN
  if (vulkan::list_devices().empty()) notes.push_back("vulkan: none found (no Vulkan driver or device)");
#else
  notes.push_back("vulkan: not built into this binary (needs the Vulkan SDK at build time)");
#endif
  return notes;
}

}  // namespace anychip::backend
