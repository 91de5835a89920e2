#include "model/model.h"

#include <algorithm>
#include <cassert>

#include "model/activations.h"
#include "model/transformer_blocks.h"
#include "util/error.h"

namespace anychip::model {

struct Model::Scratch {
  Activations activations;
};

Model::Model(std::unique_ptr<gguf::GgufFile> file, backend::Device& device)
    : file_(std::move(file)), device_(device), config_(ModelConfig::from_gguf(*file_)) {
  tokenizer_ = make_tokenizer(Vocab::from_gguf(*file_));
  if (tokenizer_->vocab().size() > config_.n_vocab) {
    throw Error(file_->path() + ": tokenizer has " + std::to_string(tokenizer_->vocab().size()) +
                " tokens but token_embd.weight has only " + std::to_string(config_.n_vocab) + " rows");
  }
  weights_ = load_weights(*file_, config_, device_);
}

Model::~Model() = default;

std::unique_ptr<Model> Model::load(const std::string& path, backend::Device& device) {
  return std::unique_ptr<Model>(new Model(gguf::GgufFile::open(path), device));
}

uint64_t Model::kv_bytes_per_token() const {
  return static_cast<uint64_t>(config_.kv_dim() + config_.v_dim()) * 2 * static_cast<uint64_t>(config_.n_layer);
}

KvCache Model::make_cache(int64_t n_ctx) const {
  const uint64_t bytes = static_cast<uint64_t>(n_ctx) * kv_bytes_per_token();
  const uint64_t available = device_.info().memory_bytes;
  if (available > 0 && bytes > available) {
    throw Error("the KV cache for a context of " + std::to_string(n_ctx) + " tokens needs " + std::to_string(bytes >> 20) +
                " MiB but the " + device_.info().backend + " device has " + std::to_string(available >> 20) + " MiB");
  }
  KvCache cache;
  cache.n_ctx = n_ctx;
  for (int64_t i = 0; i < config_.n_layer; ++i) {
    for (auto* list : {&cache.k, &cache.v}) {
      const int64_t cols = list == &cache.k ? config_.kv_dim() : config_.v_dim();
      cache.buffers.push_back(device_.alloc(static_cast<size_t>(n_ctx * cols) * 2));
      backend::Tensor t;
      t.buffer = cache.buffers.back().get();
      t.type = GgmlType::F16;
      t.rows = n_ctx;
      t.cols = cols;
      t.row_stride = static_cast<size_t>(cols) * 2;
      list->push_back(t);
    }
  }
  return cache;
}

uint64_t Model::weight_bytes_per_token() const {
  auto bytes = [](const backend::Tensor& t) { return static_cast<uint64_t>(t.rows) * t.row_stride; };
  uint64_t total = weights_.token_embd.row_stride + bytes(weights_.output_norm) + bytes(weights_.output);
  for (const LayerWeights& l : weights_.layers) {
    for (const backend::Tensor* t : {&l.attn_norm, &l.wq, &l.wk, &l.wv, &l.wo, &l.ffn_norm, &l.ffn_gate, &l.ffn_up, &l.ffn_down}) {
      total += bytes(*t);
    }
    if (l.has_qkv_bias) total += bytes(l.bq) + bytes(l.bk) + bytes(l.bv);
    if (l.has_qk_norm) total += bytes(l.q_norm) + bytes(l.k_norm);
  }
  return total;
}

Model::Scratch& Model::scratch_for(int64_t n_tokens, int64_t n_outputs) {
  if (!scratch_ || scratch_->activations.capacity < n_tokens || scratch_->activations.output_capacity < n_outputs) {
    const int64_t tokens = std::max(n_tokens, scratch_ ? scratch_->activations.capacity : 0);
    const int64_t outputs = std::max(n_outputs, scratch_ ? scratch_->activations.output_capacity : 0);
    scratch_.reset();  // free the old buffers before allocating larger ones
    scratch_ = std::make_unique<Scratch>(Scratch{Activations(device_, config_, tokens, outputs)});
  }
  return *scratch_;
}

// One sequence filling the cache from row 0, its last token's logits wanted.
struct Model::SingleSequence {
  std::vector<int32_t> positions, row_seq;
  int32_t block_table[1] = {0};
  int32_t last[1] = {0};
  ForwardBatch batch;
};

void Model::single_sequence(std::span<const int32_t> tokens, int32_t start_pos, const KvCache& cache,
                            SingleSequence& s) const {
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n == 0) throw Error("forward: no tokens");
  if (start_pos < 0 || start_pos + n > cache.n_ctx) {
    throw Error("context overflow: position " + std::to_string(start_pos + n) + " exceeds the context size " +
                std::to_string(cache.n_ctx));
  }
  for (int32_t id : tokens) {
    if (id < 0 || id >= config_.n_vocab) {
      throw Error("token id " + std::to_string(id) + " is out of range [0, " + std::to_string(config_.n_vocab) + ")");
    }
  }
  s.positions.resize(tokens.size());
  for (int64_t i = 0; i < n; ++i) s.positions[i] = start_pos + static_cast<int32_t>(i);
  s.row_seq.assign(tokens.size(), 0);
  s.last[0] = static_cast<int32_t>(n - 1);
  s.batch.tokens = tokens;
  s.batch.positions = s.positions;
  s.batch.cache_rows = s.positions;
  s.batch.pages = backend::KvPages{static_cast<int>(cache.n_ctx), 1, s.block_table, s.row_seq};
  s.batch.output_rows = s.last;
}

void Model::forward(std::span<const int32_t> tokens, int32_t start_pos, KvCache& cache, std::vector<float>& logits) {
  SingleSequence s;
  single_sequence(tokens, start_pos, cache, s);
  forward_batch(s.batch, cache, logits);
}

int32_t Model::forward_argmax(std::span<const int32_t> tokens, int32_t start_pos, KvCache& cache) {
  SingleSequence s;
  single_sequence(tokens, start_pos, cache, s);
  std::vector<int32_t> ids;
  forward_batch_argmax(s.batch, cache, ids);
  return ids[0];
}

Activations Model::run_layers(const ForwardBatch& batch, KvCache& cache) {
  const int64_t n = static_cast<int64_t>(batch.tokens.size());
  const int64_t n_out = static_cast<int64_t>(batch.output_rows.size());
  assert(n > 0 && batch.positions.size() == batch.tokens.size() && batch.cache_rows.size() == batch.tokens.size() &&
         batch.pages.row_seq.size() == batch.tokens.size());
  Activations a = scratch_for(n, n_out).activations.rows(n, n_out);
  const BlockContext ctx{device_, config_, weights_, batch.positions, batch.cache_rows, batch.pages, batch.output_rows};
  device_.get_rows(weights_.token_embd, batch.tokens, a.x);
  for (int64_t i = 0; i < config_.n_layer; ++i) {
    attention_block(ctx, weights_.layers[i], cache.k[i], cache.v[i], a);
    feed_forward_block(ctx, weights_.layers[i], a);
  }
  if (n_out > 0) output_block(ctx, a);
  return a;
}

void Model::forward_batch(const ForwardBatch& batch, KvCache& cache, std::vector<float>& logits) {
  const Activations a = run_layers(batch, cache);
  const size_t n_out = batch.output_rows.size();
  device_.synchronize();
  logits.resize(n_out * static_cast<size_t>(config_.n_vocab));
  if (n_out > 0) a.logits.buffer->read(a.logits.offset, logits.data(), logits.size() * sizeof(float));
}

void Model::forward_batch_argmax(const ForwardBatch& batch, KvCache& cache, std::vector<int32_t>& ids) {
  const Activations a = run_layers(batch, cache);
  ids.resize(batch.output_rows.size());
  if (ids.empty()) {
    device_.synchronize();
    return;
  }
  device_.argmax_rows(a.logits.row_range(0, static_cast<int64_t>(ids.size())), ids);
}

}  // namespace anychip::model
