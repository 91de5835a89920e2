#include "model/weights.h"

#include <string>

#include "quant/quant.h"
#include "util/error.h"

namespace anychip::model {
namespace {

std::string shape_string(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

class TensorBinder {
 public:
  TensorBinder(const gguf::GgufFile& file, backend::Device& device, backend::Buffer* buffer)
      : file_(file), device_(device), buffer_(buffer) {}

  bool has(const std::string& name) const { return file_.find_tensor(name) != nullptr; }

  // expected: ggml-order dims ({cols} or {cols, rows}).
  backend::Tensor bind(const std::string& name, std::vector<int64_t> expected, backend::Op op) const {
    const gguf::TensorInfo* t = file_.find_tensor(name);
    if (!t) throw Error(file_.path() + ": missing tensor " + name);
    // A trailing dimension of 1 is the same shape (1-D tensors stored as [n, 1]).
    std::vector<int64_t> dims = t->dims;
    while (dims.size() > expected.size() && dims.back() == 1) dims.pop_back();
    if (dims != expected) {
      throw Error(file_.path() + ": tensor " + name + " has shape " + shape_string(t->dims) + ", expected " +
                  shape_string(expected));
    }
    if (!device_.supports(op, t->type)) {
      throw Error(file_.path() + ": tensor " + name + " has type " + std::string(type_name(t->type)) + ", which the " +
                  device_.info().backend + " backend cannot use for " + backend::op_name(op));
    }
    backend::Tensor out;
    out.buffer = buffer_;
    out.offset = static_cast<size_t>(t->data - file_.bytes());
    out.type = t->type;
    out.cols = expected[0];
    out.rows = expected.size() > 1 ? expected[1] : 1;
    out.row_stride = row_bytes(t->type, out.cols);
    return out;
  }

 private:
  const gguf::GgufFile& file_;
  backend::Device& device_;
  backend::Buffer* buffer_;
};

LayerWeights bind_layer(const TensorBinder& b, const ModelConfig& c, int64_t i) {
  using backend::Op;
  const std::string p = "blk." + std::to_string(i) + ".";
  LayerWeights l;
  l.attn_norm = b.bind(p + "attn_norm.weight", {c.n_embd}, Op::RmsNorm);
  l.wq = b.bind(p + "attn_q.weight", {c.n_embd, c.q_dim()}, Op::MatMul);
  l.wk = b.bind(p + "attn_k.weight", {c.n_embd, c.kv_dim()}, Op::MatMul);
  l.wv = b.bind(p + "attn_v.weight", {c.n_embd, c.v_dim()}, Op::MatMul);
  l.wo = b.bind(p + "attn_output.weight", {c.q_dim(), c.n_embd}, Op::MatMul);
  l.has_qkv_bias = c.arch->requires_qkv_bias || b.has(p + "attn_q.bias");
  if (l.has_qkv_bias) {
    l.bq = b.bind(p + "attn_q.bias", {c.q_dim()}, Op::AddBias);
    l.bk = b.bind(p + "attn_k.bias", {c.kv_dim()}, Op::AddBias);
    l.bv = b.bind(p + "attn_v.bias", {c.v_dim()}, Op::AddBias);
  }
  l.has_qk_norm = c.arch->requires_qk_norm;
  if (l.has_qk_norm) {
    l.q_norm = b.bind(p + "attn_q_norm.weight", {c.head_dim}, Op::RmsNorm);
    l.k_norm = b.bind(p + "attn_k_norm.weight", {c.head_dim}, Op::RmsNorm);
  }
  l.ffn_norm = b.bind(p + "ffn_norm.weight", {c.n_embd}, Op::RmsNorm);
  l.ffn_gate = b.bind(p + "ffn_gate.weight", {c.n_embd, c.n_ff}, Op::MatMul);
  l.ffn_up = b.bind(p + "ffn_up.weight", {c.n_embd, c.n_ff}, Op::MatMul);
  l.ffn_down = b.bind(p + "ffn_down.weight", {c.n_ff, c.n_embd}, Op::MatMul);
  return l;
}

}  // namespace

ModelWeights load_weights(const gguf::GgufFile& file, const ModelConfig& c, backend::Device& device) {
  using backend::Op;
  ModelWeights w;
  w.file_buffer = device.import_host(file.bytes(), file.file_size());
  TensorBinder b(file, device, w.file_buffer.get());
  w.token_embd = b.bind("token_embd.weight", {c.n_embd, c.n_vocab}, Op::GetRows);
  w.output_norm = b.bind("output_norm.weight", {c.n_embd}, Op::RmsNorm);
  w.tied_output = !b.has("output.weight");
  if (w.tied_output) {
    if (!device.supports(Op::MatMul, w.token_embd.type)) {
      throw Error(file.path() + ": tied output uses token_embd.weight of type " +
                  std::string(type_name(w.token_embd.type)) + ", which the backend cannot multiply");
    }
    w.output = w.token_embd;
  } else {
    w.output = b.bind("output.weight", {c.n_embd, c.n_vocab}, Op::MatMul);
  }
  for (int64_t i = 0; i < c.n_layer; ++i) w.layers.push_back(bind_layer(b, c, i));
  // Matmul weights in the device's own layout. A tied output is prepared once and serves as the
  // embedding table too (the device's get_rows reads its own layout).
  auto prepare = [&](backend::Tensor& t) {
    backend::Device::PreparedWeight p = device.prepare_matmul_weight(t);
    t = p.tensor;
    if (p.storage) w.prepared_buffers.push_back(std::move(p.storage));
  };
  prepare(w.output);
  if (w.tied_output) w.token_embd = w.output;
  for (LayerWeights& l : w.layers) {
    for (backend::Tensor* t : {&l.wq, &l.wk, &l.wv, &l.wo, &l.ffn_gate, &l.ffn_up, &l.ffn_down}) prepare(*t);
  }
  if (b.has("rope_freqs.weight")) {
    const backend::Tensor f = b.bind("rope_freqs.weight", {c.head_dim / 2}, Op::RmsNorm);
    w.rope_freq_factors.resize(static_cast<size_t>(f.cols));
    quant::dequantize_row(f.type, file.bytes() + f.offset, w.rope_freq_factors.data(), f.cols);
  }
  return w;
}

}  // namespace anychip::model
