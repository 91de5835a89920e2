// Row-wise and element-wise ops on f32 activations: rms_norm, rope, swiglu, add, add_bias.
#include <climits>
#include <string>
#include <vector>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_device.h"
#include "backend/cuda/kernels/launch.h"
#include "backend/cuda/rope_upload.h"
#include "util/error.h"

namespace anychip::cuda {
namespace {

void require_f32(const backend::Tensor& t, const char* op) {
  if (t.type != GgmlType::F32 || t.row_stride % 4 != 0 || t.offset % 4 != 0) {
    throw Error(std::string("cuda: ") + op + ": expects f32 rows");
  }
}

void require_half_or_f32_row(const backend::Tensor& t, const char* op) {
  const bool ok = (t.type == GgmlType::F32 && t.offset % 4 == 0) ||
                  ((t.type == GgmlType::F16 || t.type == GgmlType::BF16) && t.offset % 2 == 0);
  if (!ok) throw Error(std::string("cuda: ") + op + ": unsupported weight type " + std::string(type_name(t.type)));
}

}  // namespace

void CudaDevice::rms_norm(const backend::Tensor& x, const backend::Tensor& weight, float eps, const backend::Tensor& y) {
  require_f32(x, "rms_norm");
  require_f32(y, "rms_norm");
  require_half_or_f32_row(weight, "rms_norm");
  if (weight.cols <= 0 || x.cols % weight.cols != 0 || y.cols != x.cols || y.rows < x.rows) {
    throw Error("cuda: rms_norm: mismatched shapes");
  }
  if (x.rows == 0) return;
  kernels::RmsNormArgs a{};
  a.x = address_as<float>(x);
  a.weight = address(weight.row_range(0, 1));
  a.y = address_as<float>(y);
  a.x_stride = x.row_stride / 4;
  a.y_stride = y.row_stride / 4;
  a.rows = x.rows;
  a.n = static_cast<int32_t>(weight.cols);
  a.groups = static_cast<int32_t>(x.cols / weight.cols);
  a.weight_type = static_cast<uint32_t>(weight.type);
  a.eps = eps;
  // A decode-sized output is rounded to 8 bits as it is written, for the matmul that follows
  // (by a kernel that needs the output apart from the input).
  const bool quantize = x.rows <= kernels::kMatvecMaxTokens && a.groups == 1 && x.cols % 32 == 0 && !overlaps(x, y);
  if (quantize) {
    const Q8Scratch q8 = q8_scratch(x.rows, x.cols);
    a.xq = q8.xq;
    a.meta = q8.meta;
  }
  forget_converted();  // it may write the rows a matmul converted
  stream_.record(quantize ? "rms_norm_quantize" : "rms_norm", a, kernels::rms_norm);
  if (quantize) remember_converted(ActivationFormat::Q8Chunks, y.row_range(0, x.rows));
}

void CudaDevice::rope(const backend::Tensor& x, std::span<const int32_t> positions, const backend::RopeParams& p) {
  require_f32(x, "rope");
  if (p.head_dim <= 0 || p.head_dim % 2 != 0 || x.cols % p.head_dim != 0 ||
      static_cast<int64_t>(positions.size()) != x.rows) {
    throw Error("cuda: rope: head_dim " + std::to_string(p.head_dim) + " does not fit rows of " + std::to_string(x.cols));
  }
  if (x.rows == 0) return;
  // One upload (q and k of every layer share it).
  const std::vector<int32_t> words = rope_words(positions, p);
  kernels::RopeArgs a{};
  a.x = address_as<float>(x);
  a.x_stride = x.row_stride / 4;
  a.rows = x.rows;
  a.heads = static_cast<int32_t>(x.cols / p.head_dim);
  a.head_dim = p.head_dim;
  a.neox = p.style == backend::RopeStyle::Neox ? 1 : 0;
  a.theta_scale = rope_theta_scale(p);
  a.freq_scale = p.freq_scale;
  const auto* base = static_cast<const int32_t*>(stream_.upload(words.data(), words.size() * sizeof(int32_t)));
  a.positions = base;
  a.freq_factors = p.freq_factors ? reinterpret_cast<const float*>(base + positions.size()) : nullptr;
  forget_converted();  // it may write the rows a matmul converted
  stream_.record("rope", a, kernels::rope);
}

void CudaDevice::swiglu(const backend::Tensor& gate, const backend::Tensor& up, const backend::Tensor& out) {
  require_f32(gate, "swiglu");
  require_f32(up, "swiglu");
  require_f32(out, "swiglu");
  if (up.cols != gate.cols || out.cols != gate.cols || up.rows < gate.rows || out.rows < gate.rows) {
    throw Error("cuda: swiglu: mismatched shapes");
  }
  kernels::SwigluArgs a{};
  a.gate = address_as<float>(gate);
  a.up = address_as<float>(up);
  a.out = address_as<float>(out);
  a.gate_stride = gate.row_stride / 4;
  a.up_stride = up.row_stride / 4;
  a.out_stride = out.row_stride / 4;
  a.cols = gate.cols;
  a.rows = gate.rows;
  const bool quantize = gate.rows > 0 && gate.rows <= kernels::kMatvecMaxTokens && gate.cols % 32 == 0;
  if (quantize) {
    const Q8Scratch q8 = q8_scratch(gate.rows, gate.cols);
    a.xq = q8.xq;
    a.meta = q8.meta;
  }
  forget_converted();  // it may write the rows a matmul converted
  stream_.record(quantize ? "swiglu_quantize" : "swiglu", a, kernels::swiglu);
  if (quantize) remember_converted(ActivationFormat::Q8Chunks, out.row_range(0, gate.rows));
}

void CudaDevice::add(const backend::Tensor& x, const backend::Tensor& y) {
  require_f32(x, "add");
  require_f32(y, "add");
  if (y.cols != x.cols || y.rows < x.rows) throw Error("cuda: add: mismatched shapes");
  kernels::AddArgs a{};
  a.x = address_as<float>(x);
  a.y = address_as<float>(y);
  a.x_stride = x.row_stride / 4;
  a.y_stride = y.row_stride / 4;
  a.cols = x.cols;
  a.rows = x.rows;
  forget_converted();  // it may write the rows a matmul converted
  stream_.record("add", a, kernels::add);
}

void CudaDevice::add_bias(const backend::Tensor& bias, const backend::Tensor& y) {
  require_f32(y, "add_bias");
  require_half_or_f32_row(bias, "add_bias");
  if (bias.cols != y.cols) throw Error("cuda: add_bias: mismatched shapes");
  kernels::AddBiasArgs a{};
  a.bias = address(bias.row_range(0, 1));
  a.y = address_as<float>(y);
  a.y_stride = y.row_stride / 4;
  a.cols = y.cols;
  a.rows = y.rows;
  a.bias_type = static_cast<uint32_t>(bias.type);
  forget_converted();  // it may write the rows a matmul converted
  stream_.record("add_bias", a, kernels::add_bias);
}

void CudaDevice::argmax_rows(const backend::Tensor& x, std::span<int32_t> out) {
  require_f32(x, "argmax_rows");
  if (static_cast<int64_t>(out.size()) != x.rows || x.cols <= 0 || x.cols > INT32_MAX) {
    throw Error("cuda: argmax_rows: " + std::to_string(out.size()) + " outputs for " + std::to_string(x.rows) + " rows");
  }
  if (x.rows == 0) return;
  kernels::ArgmaxArgs a{};
  const size_t slices = out.size() * kernels::kArgmaxSlices;
  uint8_t* space = scratch(argmax_out_, out.size_bytes() + slices * (sizeof(float) + sizeof(int32_t)));
  a.out = reinterpret_cast<int32_t*>(space);
  a.partial_value = reinterpret_cast<float*>(space + out.size_bytes());
  a.partial_at = reinterpret_cast<int32_t*>(space + out.size_bytes() + slices * sizeof(float));
  a.x = address_as<float>(x);
  a.x_stride = x.row_stride / 4;
  a.cols = x.cols;
  a.rows = x.rows;
  stream_.record("argmax_rows", a, kernels::argmax_rows);
  stream_.flush();
  check(cudaMemcpyAsync(out.data(), a.out, out.size_bytes(), cudaMemcpyDeviceToHost, stream_.get()), "copying argmax ids");
  check(cudaStreamSynchronize(stream_.get()), "copying argmax ids");
}

}  // namespace anychip::cuda
