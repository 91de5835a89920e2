#pragma once
// Turns logits into the next token id, in llama.cpp's default order: penalties on recent tokens,
// then top-k, top-p and min-p on the untempered distribution, then temperature, then a draw from
// a seeded generator (same seed, same output). Temperature 0 is greedy (after penalties).
#include <cstdint>
#include <deque>
#include <random>
#include <span>
#include <vector>

namespace anychip::engine {

struct SamplingParams {
  float temperature = 0.8f;  // <= 0: greedy
  int top_k = 40;            // <= 0: all tokens
  float top_p = 0.95f;       // >= 1: off
  float min_p = 0.05f;       // <= 0: off
  float repeat_penalty = 1.0f;     // 1: off; divides positive / multiplies negative logits
  int repeat_last_n = 64;          // how many recent tokens the penalties look at
  float frequency_penalty = 0.0f;  // subtracted once per occurrence
  float presence_penalty = 0.0f;   // subtracted once if present
  uint64_t seed = 0;

  // Throws anychip::Error naming the parameter for values outside their domain.
  void validate() const;
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);
  // Chooses a token; does not record it (call accept).
  int32_t sample(std::span<const float> logits);
  // True when the next sample() is the logits' argmax whatever they are (greedy, and no
  // penalty applies yet): the argmax can then be found without the logits on the host.
  bool next_is_argmax() const;
  // Records a token of the context (prompt or generated) for the penalties.
  void accept(int32_t token);

 private:
  SamplingParams params_;
  std::mt19937_64 rng_;
  std::deque<int32_t> recent_;
  std::vector<std::pair<float, int32_t>> candidates_;
};

int32_t argmax(std::span<const float> logits);

}  // namespace anychip::engine
