#pragma once
// Per-forward working tensors, sized for a number of tokens and reused between calls.
#include <memory>
#include <vector>

#include "backend/device.h"
#include "model/config.h"

namespace anychip::model {

struct Activations {
  int64_t capacity = 0;  // tokens
  int64_t output_capacity = 0;  // rows of logits
  std::vector<std::unique_ptr<backend::Buffer>> buffers;
  backend::Tensor x, h, q, k, v, attn, gate, up, last, logits;

  Activations(backend::Device& device, const ModelConfig& c, int64_t n_tokens, int64_t n_outputs);
  // Views of the first n token rows and the first n_outputs output rows.
  Activations rows(int64_t n, int64_t n_outputs) const;

 private:
  Activations() = default;
};

}  // namespace anychip::model
