#include "model/transformer_blocks.h"

#include <cmath>

namespace anychip::model {

void attention_block(const BlockContext& ctx, const LayerWeights& l, const backend::Tensor& k_cache,
                     const backend::Tensor& v_cache, const Activations& a) {
  auto& dev = ctx.device;
  const ModelConfig& c = ctx.config;
  dev.rms_norm(a.x, l.attn_norm, c.rms_eps, a.h);
  const backend::Tensor qkv_w[] = {l.wq, l.wk, l.wv}, qkv[] = {a.q, a.k, a.v};
  dev.matmul_same_input(qkv_w, a.h, qkv);
  if (l.has_qkv_bias) {
    dev.add_bias(l.bq, a.q);
    dev.add_bias(l.bk, a.k);
    dev.add_bias(l.bv, a.v);
  }
  if (l.has_qk_norm) {
    dev.rms_norm(a.q, l.q_norm, c.rms_eps, a.q);
    dev.rms_norm(a.k, l.k_norm, c.rms_eps, a.k);
  }
  backend::RopeParams rope;
  rope.style = c.arch->rope_style;
  rope.head_dim = static_cast<int>(c.head_dim);
  rope.theta = c.rope_theta;
  rope.freq_scale = c.rope_freq_scale;
  rope.freq_factors = ctx.weights.rope_freq_factors.empty() ? nullptr : ctx.weights.rope_freq_factors.data();
  dev.rope_and_store(a.q, a.k, a.v, ctx.positions, rope, ctx.cache_rows, k_cache, v_cache);

  backend::AttentionParams ap;
  ap.n_head = static_cast<int>(c.n_head);
  ap.n_head_kv = static_cast<int>(c.n_head_kv);
  ap.head_dim = static_cast<int>(c.head_dim);
  ap.scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  dev.attention(a.q, k_cache, v_cache, ctx.positions, ctx.pages, ap, a.attn);
  dev.matmul(l.wo, a.attn, a.h);
  dev.add(a.h, a.x);
}

void feed_forward_block(const BlockContext& ctx, const LayerWeights& l, const Activations& a) {
  auto& dev = ctx.device;
  dev.rms_norm(a.x, l.ffn_norm, ctx.config.rms_eps, a.h);
  const backend::Tensor gate_up_w[] = {l.ffn_gate, l.ffn_up}, gate_up[] = {a.gate, a.up};
  dev.matmul_same_input(gate_up_w, a.h, gate_up);
  dev.swiglu(a.gate, a.up, a.gate);
  dev.matmul(l.ffn_down, a.gate, a.h);
  dev.add(a.h, a.x);
}

void output_block(const BlockContext& ctx, const Activations& a) {
  auto& dev = ctx.device;
  dev.get_rows(a.x, ctx.output_rows, a.last);
  dev.rms_norm(a.last, ctx.weights.output_norm, ctx.config.rms_eps, a.last);
  dev.matmul(ctx.weights.output, a.last, a.logits);
}

}  // namespace anychip::model
