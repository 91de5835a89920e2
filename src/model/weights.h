#pragma once
// The model's weights as backend tensors over the memory-mapped file, each checked for the shape
// the configuration implies and for a type the device can compute with.
#include <memory>
#include <vector>

#include "backend/device.h"
#include "gguf/gguf_file.h"
#include "model/config.h"

namespace anychip::model {

struct LayerWeights {
  backend::Tensor attn_norm, wq, wk, wv, wo;
  backend::Tensor bq, bk, bv;      // present when has_qkv_bias
  backend::Tensor q_norm, k_norm;  // present when has_qk_norm
  backend::Tensor ffn_norm, ffn_gate, ffn_up, ffn_down;
  bool has_qkv_bias = false;
  bool has_qk_norm = false;
};

struct ModelWeights {
  std::unique_ptr<backend::Buffer> file_buffer;  // the whole mapped file, on the device
  std::vector<std::unique_ptr<backend::Buffer>> prepared_buffers;  // weights the device re-laid out
  backend::Tensor token_embd, output_norm, output;
  bool tied_output = false;  // output reuses token_embd
  std::vector<LayerWeights> layers;
  std::vector<float> rope_freq_factors;  // Llama 3 scaling (rope_freqs.weight), may be empty
};

// Throws anychip::Error naming the tensor and what is wrong with it.
ModelWeights load_weights(const gguf::GgufFile& file, const ModelConfig& config, backend::Device& device);

}  // namespace anychip::model
