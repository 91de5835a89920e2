// matmul and get_rows: the ops that read weights in their GGUF block layout.
#include <algorithm>
#include <string>

#include "backend/cuda/cuda_device.h"
#include "backend/cuda/gemm.h"
#include "backend/cuda/kernels/dispatch.h"
#include "backend/cuda/kernels/launch.h"
#include "util/error.h"

namespace anychip::cuda {
namespace {

// Weights dequantized per cuBLAS call at most: bounds the f16 tile scratch (64 MiB).
constexpr int64_t kTileElements = int64_t{32} << 20;

bool is_f32_rows(const backend::Tensor& t) { return t.type == GgmlType::F32 && t.row_stride % 4 == 0 && t.offset % 4 == 0; }
bool even_offsets(const backend::Tensor& t) { return t.row_stride % 2 == 0 && t.offset % 2 == 0; }

size_t round_up(size_t v, size_t to) { return (v + to - 1) / to * to; }

}  // namespace

void CudaDevice::check_matmul(const backend::Tensor& w, const backend::Tensor& x, const backend::Tensor& y) const {
  if (x.cols != w.cols || y.cols != w.rows || x.rows != y.rows || !is_f32_rows(x) || !is_f32_rows(y)) {
    throw Error("cuda: matmul: mismatched shapes or non-f32 activations");
  }
  if (!supports(backend::Op::MatMul, w.type)) {
    throw Error("cuda: matmul: unsupported weight type " + std::string(type_name(w.type)));
  }
  if (!even_offsets(w) || (w.type == GgmlType::F32 && !is_f32_rows(w))) {
    throw Error("cuda: matmul: weight rows are not aligned to their element size");
  }
}

// True when y's bytes overlap x's: the output may overwrite the rows the next matmul would
// otherwise reuse converted.
bool CudaDevice::overlaps(const backend::Tensor& x, const backend::Tensor& y) const {
  const uint8_t *x_begin = address(x), *y_begin = address(y);
  const uint8_t* x_end = x_begin + (x.rows - 1) * x.row_stride + x.cols * 4;
  const uint8_t* y_end = y_begin + (y.rows - 1) * y.row_stride + y.cols * 4;
  return x_begin < y_end && y_begin < x_end;
}

void CudaDevice::matmul(const backend::Tensor& w, const backend::Tensor& x, const backend::Tensor& y) {
  check_matmul(w, x, y);
  if (x.rows == 0 || w.rows == 0) return;
  if (x.rows > kernels::kMatvecMaxTokens) {
    matmul_batched(w, x, y);
  } else {
    matmul_decode(std::span(&w, 1), x, std::span(&y, 1));
  }
  if (overlaps(x, y)) forget_converted();
}

// Decode-sized batches multiply runs of same-typed weights (with same-strided outputs) in one
// launch; anything else goes one matmul at a time.
void CudaDevice::matmul_same_input(std::span<const backend::Tensor> ws, const backend::Tensor& x,
                                   std::span<const backend::Tensor> ys) {
  if (ws.size() != ys.size()) {
    throw Error("cuda: matmul_same_input: " + std::to_string(ws.size()) + " weights for " + std::to_string(ys.size()) +
                " outputs");
  }
  for (size_t i = 0; i < ws.size(); ++i) check_matmul(ws[i], x, ys[i]);
  if (x.rows == 0) return;
  bool one_at_a_time = x.rows > kernels::kMatvecMaxTokens;
  for (const backend::Tensor& y : ys) one_at_a_time = one_at_a_time || overlaps(x, y);
  if (one_at_a_time) {
    for (size_t i = 0; i < ws.size(); ++i) matmul(ws[i], x, ys[i]);
    return;
  }
  size_t first = 0;
  while (first < ws.size()) {
    size_t end = first + 1;
    while (end < ws.size() && end - first < static_cast<size_t>(kernels::kMatvecMaxParts) &&
           ws[end].type == ws[first].type && ys[end].row_stride == ys[first].row_stride) {
      ++end;
    }
    matmul_decode(ws.subspan(first, end - first), x, ys.subspan(first, end - first));
    first = end;
  }
}

bool CudaDevice::converted(ActivationFormat format, const backend::Tensor& x) const {
  const ConvertedActivations& c = converted_;
  return c.format == format && c.x == address_as<float>(x) && c.row_stride == x.row_stride && c.rows == x.rows &&
         c.cols == x.cols && c.epoch == stream_.epoch();
}

void CudaDevice::remember_converted(ActivationFormat format, const backend::Tensor& x) {
  converted_ = {format, address_as<float>(x), x.row_stride, x.rows, x.cols, stream_.epoch()};
}

CudaDevice::Q8Scratch CudaDevice::q8_scratch(int64_t rows, int64_t cols) {
  const size_t quant_bytes = round_up(static_cast<size_t>(rows * cols), 256);  // cols: a multiple of 32
  const size_t meta_bytes = static_cast<size_t>(rows * (cols / 32)) * sizeof(blocks::XChunk);
  uint8_t* act = scratch(activation_scratch_, quant_bytes + meta_bytes);
  return {reinterpret_cast<int8_t*>(act), reinterpret_cast<blocks::XChunk*>(act + quant_bytes)};
}

void CudaDevice::matmul_decode(std::span<const backend::Tensor> ws, const backend::Tensor& x,
                               std::span<const backend::Tensor> ys) {
  const backend::Tensor& w0 = ws[0];
  kernels::MatvecArgs a{};
  if (!kernels::is_float_type(w0.type)) {
    // Sized first: growing the scratch runs what is recorded and so forgets any conversion.
    const Q8Scratch q8 = q8_scratch(x.rows, x.cols);
    if (!converted(ActivationFormat::Q8Chunks, x)) {
      kernels::QuantizeArgs q{};
      q.x = address_as<float>(x);
      q.xq = q8.xq;
      q.meta = q8.meta;
      q.x_stride = x.row_stride / 4;
      q.cols = x.cols;
      q.rows = x.rows;
      stream_.record("quantize_activations", q, kernels::quantize_activations);
      remember_converted(ActivationFormat::Q8Chunks, x);
    }
    a.xq = q8.xq;
    a.meta = q8.meta;
  }
  for (size_t i = 0; i < ws.size(); ++i) {
    a.part[i] = {address(ws[i]), address_as<float>(ys[i]), ws[i].row_stride, ws[i].rows};
  }
  a.parts = static_cast<int32_t>(ws.size());
  a.x = address_as<float>(x);
  a.x_stride = x.row_stride / 4;
  a.y_stride = ys[0].row_stride / 4;
  a.cols = w0.cols;
  a.tokens = static_cast<int32_t>(x.rows);
  a.type = static_cast<uint32_t>(w0.type);
  stream_.record("matvec", a, kernels::matvec);
}

// Batches above the matrix-vector kernels: cuBLAS on f32 weights directly, on f16/bf16 weights
// with activations rounded to the same type (as the CPU backend rounds them), and on quantized
// weights expanded to f16 one tile of rows at a time.
void CudaDevice::matmul_batched(const backend::Tensor& w, const backend::Tensor& x, const backend::Tensor& y) {
  GemmOperands g{};
  g.c = address_as<float>(y);
  g.ldc = static_cast<int64_t>(y.row_stride / 4);
  g.n = x.rows;
  g.k = w.cols;
  if (w.type == GgmlType::F32) {
    g.a = address(w);
    g.lda = static_cast<int64_t>(w.row_stride / 4);
    g.b = address(x);
    g.ldb = static_cast<int64_t>(x.row_stride / 4);
    g.m = w.rows;
    g.a_type = g.b_type = CUDA_R_32F;
    record_gemm(stream_, g);
    return;
  }
  const bool bf16 = w.type == GgmlType::BF16;
  const bool quantized = !kernels::is_float_type(w.type);
  const int64_t tile_rows = quantized ? std::clamp<int64_t>(kTileElements / w.cols, 1, w.rows) : w.rows;
  // Both scratch areas before anything is recorded: growing one runs what is already recorded
  // (and makes the converted activations stale).
  uint8_t* tile = quantized ? scratch(weight_scratch_, static_cast<size_t>(tile_rows * w.cols) * 2) : nullptr;
  const ActivationFormat format = bf16 ? ActivationFormat::BF16 : ActivationFormat::F16;
  if (!converted(format, x)) {
    kernels::ConvertArgs c{};
    c.out = reinterpret_cast<uint16_t*>(scratch(activation_scratch_, static_cast<size_t>(x.rows * x.cols) * 2));
    c.x = address_as<float>(x);
    c.x_stride = x.row_stride / 4;
    c.cols = x.cols;
    c.rows = x.rows;
    c.to_bf16 = bf16 ? 1 : 0;
    stream_.record("convert_activations", c, kernels::convert_activations);
    remember_converted(format, x);
  }
  g.b = activation_scratch_.get();
  g.ldb = x.cols;
  g.a_type = g.b_type = bf16 ? CUDA_R_16BF : CUDA_R_16F;
  if (!quantized) {
    g.a = address(w);
    g.lda = static_cast<int64_t>(w.row_stride / 2);
    g.m = w.rows;
    record_gemm(stream_, g);
    return;
  }
  const uint8_t* weights = address(w);
  for (int64_t first = 0; first < w.rows; first += tile_rows) {
    const int64_t n = std::min(tile_rows, w.rows - first);
    kernels::DequantizeArgs d{};
    d.w = weights + static_cast<size_t>(first) * w.row_stride;
    d.out = reinterpret_cast<uint16_t*>(tile);
    d.w_stride = w.row_stride;
    d.rows = n;
    d.cols = w.cols;
    d.type = static_cast<uint32_t>(w.type);
    stream_.record("dequantize_f16", d, kernels::dequantize_f16);
    g.a = tile;
    g.lda = w.cols;
    g.m = n;
    g.c = address_as<float>(y) + first;
    record_gemm(stream_, g);
  }
}

void CudaDevice::get_rows(const backend::Tensor& table, std::span<const int32_t> ids, const backend::Tensor& out) {
  if (out.cols != table.cols || out.rows < static_cast<int64_t>(ids.size()) || !is_f32_rows(out)) {
    throw Error("cuda: get_rows: mismatched shapes or a non-f32 output");
  }
  if (!supports(backend::Op::GetRows, table.type) || !even_offsets(table) ||
      (table.type == GgmlType::F32 && !is_f32_rows(table))) {
    throw Error("cuda: get_rows: unsupported or unaligned table of type " + std::string(type_name(table.type)));
  }
  for (int32_t id : ids) {
    if (id < 0 || id >= table.rows) {
      throw Error("cuda: get_rows: row id " + std::to_string(id) + " is outside [0, " + std::to_string(table.rows) + ")");
    }
  }
  if (ids.empty()) return;
  kernels::GetRowsArgs a{};
  a.table = address(table);
  a.out = address_as<float>(out);
  a.table_stride = table.row_stride;
  a.out_stride = out.row_stride / 4;
  a.cols = table.cols;
  a.n_ids = static_cast<int32_t>(ids.size());
  a.type = static_cast<uint32_t>(table.type);
  a.ids = static_cast<const int32_t*>(stream_.upload(ids.data(), ids.size_bytes()));
  forget_converted();  // it may write the rows a matmul converted
  stream_.record("get_rows", a, kernels::get_rows);
}

}  // namespace anychip::cuda
