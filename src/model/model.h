#pragma once
// A loaded model: configuration, tokenizer and weights on a device, and the forward pass built
// from shared transformer blocks.
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "backend/device.h"
#include "gguf/gguf_file.h"
#include "model/activations.h"
#include "model/config.h"
#include "model/kv_cache.h"
#include "model/weights.h"
#include "tokenizer/tokenizer.h"

namespace anychip::model {

// Tokens of one or more sequences run through the model in one pass.
struct ForwardBatch {
  std::span<const int32_t> tokens;
  std::span<const int32_t> positions;   // per token: its position in its sequence
  std::span<const int32_t> cache_rows;  // per token: the cache row its key/value goes to
  backend::KvPages pages;               // per token: its sequence and that sequence's blocks
  std::span<const int32_t> output_rows; // tokens whose logits are wanted, in output order
};

class Model {
 public:
  // Throws anychip::Error for unreadable, malformed or unsupported files.
  static std::unique_ptr<Model> load(const std::string& path, backend::Device& device);
  ~Model();

  const ModelConfig& config() const { return config_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const gguf::GgufFile& file() const { return *file_; }
  backend::Device& device() const { return device_; }

  // A cache of n_rows key/value rows per layer: one sequence of n_rows positions, or a pool of
  // n_rows / block_size blocks for paged use.
  KvCache make_cache(int64_t n_rows) const;
  // Bytes one cached token takes over all layers.
  uint64_t kv_bytes_per_token() const;
  // Bytes of weights one generated token reads: every matrix and norm once, one embedding row.
  uint64_t weight_bytes_per_token() const;
  // Runs tokens at positions start_pos.. through the model, appending their keys/values to the
  // cache, and writes the logits after the last token (n_vocab floats) to logits.
  void forward(std::span<const int32_t> tokens, int32_t start_pos, KvCache& cache, std::vector<float>& logits);
  // The same pass for greedy decoding: the argmax of the last token's logits, found on the device.
  int32_t forward_argmax(std::span<const int32_t> tokens, int32_t start_pos, KvCache& cache);
  // Allocates the working memory for batches of up to n_tokens tokens and n_outputs logit rows
  // now, so a server's memory does not grow under its first load.
  void reserve(int64_t n_tokens, int64_t n_outputs) { scratch_for(n_tokens, n_outputs); }
  // Runs a batch, writing output_rows.size() rows of n_vocab logits. Callers validate token ids
  // and keep cache rows within the cache.
  void forward_batch(const ForwardBatch& batch, KvCache& cache, std::vector<float>& logits);
  // The same pass for greedy sampling: ids[i] is the argmax of output row i's logits, found on
  // the device, so the logits themselves never reach the host.
  void forward_batch_argmax(const ForwardBatch& batch, KvCache& cache, std::vector<int32_t>& ids);

 private:
  struct Scratch;
  Model(std::unique_ptr<gguf::GgufFile> file, backend::Device& device);
  Scratch& scratch_for(int64_t n_tokens, int64_t n_outputs);
  struct SingleSequence;
  // Validates tokens and positions and describes them as a batch (views into `s`).
  void single_sequence(std::span<const int32_t> tokens, int32_t start_pos, const KvCache& cache, SingleSequence& s) const;
  // Records the whole pass (embedding, layers, output rows' logits); returns where it wrote.
  Activations run_layers(const ForwardBatch& batch, KvCache& cache);

  std::unique_ptr<gguf::GgufFile> file_;
  backend::Device& device_;
  ModelConfig config_;
  std::unique_ptr<Tokenizer> tokenizer_;
  ModelWeights weights_;
  std::unique_ptr<Scratch> scratch_;
};

}  // namespace anychip::model
