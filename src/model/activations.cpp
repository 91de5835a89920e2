#include "model/activations.h"

namespace anychip::model {

static backend::Tensor make_f32(backend::Device& device, std::vector<std::unique_ptr<backend::Buffer>>& owned,
                                int64_t rows, int64_t cols) {
  owned.push_back(device.alloc(static_cast<size_t>(rows * cols) * sizeof(float)));
  backend::Tensor t;
  t.buffer = owned.back().get();
  t.type = GgmlType::F32;
  t.rows = rows;
  t.cols = cols;
  t.row_stride = static_cast<size_t>(cols) * sizeof(float);
  return t;
}

Activations::Activations(backend::Device& device, const ModelConfig& c, int64_t n, int64_t n_outputs)
    : capacity(n), output_capacity(n_outputs) {
  x = make_f32(device, buffers, n, c.n_embd);
  h = make_f32(device, buffers, n, c.n_embd);
  q = make_f32(device, buffers, n, c.q_dim());
  k = make_f32(device, buffers, n, c.kv_dim());
  v = make_f32(device, buffers, n, c.v_dim());
  attn = make_f32(device, buffers, n, c.q_dim());
  gate = make_f32(device, buffers, n, c.n_ff);
  up = make_f32(device, buffers, n, c.n_ff);
  last = make_f32(device, buffers, n_outputs, c.n_embd);
  logits = make_f32(device, buffers, n_outputs, c.n_vocab);
}

Activations Activations::rows(int64_t n, int64_t n_outputs) const {
  Activations a;
  a.capacity = n;
  a.output_capacity = n_outputs;
  for (auto [dst, src] : {std::pair{&a.x, &x}, {&a.h, &h}, {&a.q, &q}, {&a.k, &k}, {&a.v, &v}, {&a.attn, &attn},
                          {&a.gate, &gate}, {&a.up, &up}}) {
    *dst = src->row_range(0, n);
  }
  a.last = last.row_range(0, n_outputs);
  a.logits = logits.row_range(0, n_outputs);
  return a;
}

}  // namespace anychip::model
