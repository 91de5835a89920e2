#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>

#include "util/error.h"

namespace anychip::engine {

void SamplingParams::validate() const {
  if (!std::isfinite(temperature) || temperature < 0) throw Error("temperature must be >= 0, got " + std::to_string(temperature));
  if (!(top_p > 0 && top_p <= 1)) throw Error("top-p must be in (0, 1], got " + std::to_string(top_p));
  if (!(min_p >= 0 && min_p <= 1)) throw Error("min-p must be in [0, 1], got " + std::to_string(min_p));
  if (top_k < 0) throw Error("top-k must be >= 0, got " + std::to_string(top_k));
  if (!std::isfinite(repeat_penalty) || repeat_penalty <= 0) {
    throw Error("repeat-penalty must be > 0, got " + std::to_string(repeat_penalty));
  }
  if (repeat_last_n < 0) throw Error("repeat-last-n must be >= 0, got " + std::to_string(repeat_last_n));
  if (!std::isfinite(frequency_penalty) || std::fabs(frequency_penalty) > 100) {
    throw Error("frequency-penalty must be in [-100, 100], got " + std::to_string(frequency_penalty));
  }
  if (!std::isfinite(presence_penalty) || std::fabs(presence_penalty) > 100) {
    throw Error("presence-penalty must be in [-100, 100], got " + std::to_string(presence_penalty));
  }
}

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) { params_.validate(); }

int32_t argmax(std::span<const float> logits) {
  // First maximum wins ties, as llama.cpp's greedy sampler does.
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

void Sampler::accept(int32_t token) {
  if (params_.repeat_last_n == 0) return;
  recent_.push_back(token);
  while (static_cast<int>(recent_.size()) > params_.repeat_last_n) recent_.pop_front();
}

bool Sampler::next_is_argmax() const {
  const bool penalize = params_.repeat_penalty != 1.0f || params_.frequency_penalty != 0.0f || params_.presence_penalty != 0.0f;
  return params_.temperature <= 0.0f && (!penalize || recent_.empty());
}

int32_t Sampler::sample(std::span<const float> logits) {
  const bool penalize = params_.repeat_penalty != 1.0f || params_.frequency_penalty != 0.0f || params_.presence_penalty != 0.0f;
  // Greedy without penalties needs no candidate list (the serving loop samples every sequence
  // every step, so this copy of the vocabulary would add up).
  if (next_is_argmax()) return argmax(logits);
  candidates_.clear();
  candidates_.reserve(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) candidates_.emplace_back(logits[i], static_cast<int32_t>(i));

  if (penalize && !recent_.empty()) {
    std::unordered_map<int32_t, int> counts;
    for (int32_t t : recent_) ++counts[t];
    for (const auto& [token, count] : counts) {
      if (token < 0 || static_cast<size_t>(token) >= candidates_.size()) continue;
      float& l = candidates_[static_cast<size_t>(token)].first;
      l = l > 0 ? l / params_.repeat_penalty : l * params_.repeat_penalty;
      l -= static_cast<float>(count) * params_.frequency_penalty + params_.presence_penalty;
    }
  }
  auto by_logit = [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
  if (params_.temperature <= 0.0f) {
    return std::min_element(candidates_.begin(), candidates_.end(), by_logit)->second;
  }

  size_t keep = candidates_.size();
  if (params_.top_k > 0) keep = std::min(keep, static_cast<size_t>(params_.top_k));
  std::partial_sort(candidates_.begin(), candidates_.begin() + static_cast<std::ptrdiff_t>(keep), candidates_.end(), by_logit);
  candidates_.resize(keep);

  // top-p and min-p look at the distribution before temperature, as llama.cpp's chain does.
  const float max_logit = candidates_.front().first;
  std::vector<double> probs(candidates_.size());
  double sum = 0;
  for (size_t i = 0; i < candidates_.size(); ++i) sum += probs[i] = std::exp(static_cast<double>(candidates_[i].first - max_logit));
  for (double& p : probs) p /= sum;
  size_t n = candidates_.size();
  if (params_.top_p < 1) {
    double cum = 0;
    size_t i = 0;
    while (i < n) {
      cum += probs[i++];
      if (cum >= params_.top_p) break;
    }
    n = i;
  }
  if (params_.min_p > 0) {
    const double floor = probs[0] * params_.min_p;
    size_t i = 1;
    while (i < n && probs[i] >= floor) ++i;
    n = i;
  }
  candidates_.resize(n);

  std::vector<double> weights(n);
  for (size_t i = 0; i < n; ++i) weights[i] = std::exp(static_cast<double>(candidates_[i].first - max_logit) / params_.temperature);
  std::discrete_distribution<size_t> pick(weights.begin(), weights.end());
  return candidates_[pick(rng_)].second;
}

}  // namespace anychip::engine
