#include "backend/cuda/cuda_device.h"

#include <cuda_runtime.h>

#include <string>

#include "backend/cuda/buffer.h"
#include "backend/cuda/context.h"
#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/launch.h"
#include "backend/cuda/memory_fit.h"
#include "util/error.h"

namespace anychip::cuda {
namespace {

// Kept free beyond the weights when importing a model: activations, scratch, cuBLAS workspace.
constexpr uint64_t kImportHeadroom = uint64_t{256} << 20;

backend::DeviceInfo checked_device(int index) {
  const Enumeration e = enumerate_devices();
  if (e.count == 0) throw Error("no CUDA device: " + e.error);
  if (index < 0 || index >= e.count) {
    throw Error("cuda: no device cuda:" + std::to_string(index) + " (" + std::to_string(e.count) +
                " found; see `anychip info --devices`)");
  }
  cudaDeviceProp props{};
  check(cudaGetDeviceProperties(&props, index), "cudaGetDeviceProperties");
  if (props.major * 10 + props.minor < kMinComputeCapability) {
    throw Error("cuda: " + std::string(props.name) + " has compute capability " + std::to_string(props.major) + "." +
                std::to_string(props.minor) + "; anychip's CUDA kernels need " +
                std::to_string(kMinComputeCapability / 10) + "." + std::to_string(kMinComputeCapability % 10) +
                " or newer");
  }
  return describe_device(index);
}

}  // namespace

CudaDevice::CudaDevice(int index) : info_(checked_device(index)), stream_(index) {
  // Fails here, with the reason, when this binary has no code for the GPU's architecture.
  kernels::noop(stream_.get());
  check_launch("probe kernel");
  check(cudaStreamSynchronize(stream_.get()), "probe kernel");
}

CudaDevice::~CudaDevice() {
  try {
    stream_.flush();
  } catch (const Error&) {
    // A failed device has nothing left to run.
  }
}

bool CudaDevice::supports(backend::Op op, GgmlType type) const {
  const bool half_or_f32 = type == GgmlType::F32 || type == GgmlType::F16 || type == GgmlType::BF16;
  switch (op) {
    case backend::Op::MatMul:
    case backend::Op::GetRows:
      switch (type) {
        case GgmlType::F32: case GgmlType::F16: case GgmlType::BF16: case GgmlType::Q4_0: case GgmlType::Q4_1:
        case GgmlType::Q5_0: case GgmlType::Q5_1: case GgmlType::Q8_0: case GgmlType::Q2_K: case GgmlType::Q3_K:
        case GgmlType::Q4_K: case GgmlType::Q5_K: case GgmlType::Q6_K:
          return true;
        default:
          return false;
      }
    case backend::Op::RmsNorm:
    case backend::Op::AddBias:
      return half_or_f32;
    case backend::Op::Attention:
      return type == GgmlType::F16 || type == GgmlType::F32;
    default:
      return type == GgmlType::F32;
  }
}

std::unique_ptr<backend::Buffer> CudaDevice::alloc(size_t bytes) { return std::make_unique<CudaBuffer>(stream_, bytes); }

std::unique_ptr<backend::Buffer> CudaDevice::import_host(const void* data, size_t bytes) {
  stream_.activate();
  require_fits(bytes, "the model (" + std::to_string(bytes) + " bytes of GGUF file)", kImportHeadroom);
  auto buffer = std::make_unique<CudaBuffer>(stream_, bytes);
  buffer->write(0, data, bytes);
  return buffer;
}

uint8_t* CudaDevice::address(const backend::Tensor& t) const {
  const auto* b = dynamic_cast<const CudaBuffer*>(t.buffer);
  if (!b) throw Error("cuda: a tensor's buffer does not belong to the cuda device");
  const size_t bytes = t.rows > 0 ? static_cast<size_t>(t.rows - 1) * t.row_stride + row_bytes(t.type, t.cols) : 0;
  if (t.offset > b->size() || bytes > b->size() - t.offset) {
    throw Error("cuda: a tensor of " + std::to_string(bytes) + " bytes at offset " + std::to_string(t.offset) +
                " runs past its buffer of " + std::to_string(b->size()) + " bytes");
  }
  return b->data() + t.offset;
}

uint8_t* CudaDevice::scratch(DeviceMemory& s, size_t bytes) {
  if (s.size() < bytes) {
    stream_.flush();
    stream_.activate();
    s = DeviceMemory(0);  // free before allocating the larger one
    s = DeviceMemory(bytes + bytes / 2);
  }
  return static_cast<uint8_t*>(s.get());
}

std::unique_ptr<backend::Device> create_device(int index) { return std::make_unique<CudaDevice>(index); }

std::vector<backend::DeviceInfo> list_devices() {
  std::vector<backend::DeviceInfo> out;
  const Enumeration e = enumerate_devices();
  for (int i = 0; i < e.count; ++i) {
    try {
      out.push_back(describe_device(i));
    } catch (const Error&) {
      // A device the runtime counts but cannot describe is not usable either.
    }
  }
  return out;
}

std::string no_device_reason() { return enumerate_devices().error; }

StreamStats stream_stats(const backend::Device& device) {
  const auto* d = dynamic_cast<const CudaDevice*>(&device);
  return d ? d->stream_stats() : StreamStats{};
}

}  // namespace anychip::cuda
