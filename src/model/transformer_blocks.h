#pragma once
// The shared blocks every supported architecture is built from; options on ModelConfig /
// LayerWeights select biases, QK-norm and the RoPE style.
#include <span>

#include "backend/device.h"
#include "model/activations.h"
#include "model/config.h"
#include "model/kv_cache.h"
#include "model/weights.h"

namespace anychip::model {

struct BlockContext {
  backend::Device& device;
  const ModelConfig& config;
  const ModelWeights& weights;
  std::span<const int32_t> positions;   // per token row
  std::span<const int32_t> cache_rows;  // per token row: where its key/value is stored
  const backend::KvPages& pages;
  std::span<const int32_t> output_rows;  // token rows whose logits are wanted
};

// x += Attention(RMSNorm(x)), writing this layer's keys/values into the cache.
void attention_block(const BlockContext& ctx, const LayerWeights& layer, const backend::Tensor& k_cache,
                     const backend::Tensor& v_cache, const Activations& a);
// x += FFN_SwiGLU(RMSNorm(x))
void feed_forward_block(const BlockContext& ctx, const LayerWeights& layer, const Activations& a);
// logits[i] = Output(RMSNorm(x[output_rows[i]]))
void output_block(const BlockContext& ctx, const Activations& a);

}  // namespace anychip::model
