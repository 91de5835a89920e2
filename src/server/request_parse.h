#pragma once
// Parses and validates the JSON bodies of /v1/chat/completions and /v1/completions into one
// request shape. Every rejection is an ApiError (400) whose param names the field, so a client
// learns exactly which value was wrong. Values the engine checks against the model (prompt length,
// token ids in the vocabulary) are left to it.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/sampler.h"

namespace anychip::server {

inline constexpr size_t kMaxStopStrings = 4;

struct CompletionRequest {
  enum class Kind { Chat, Text };
  Kind kind = Kind::Chat;
  std::optional<std::string> model;     // absent: whatever model is served
  nlohmann::ordered_json messages;      // chat: [{role, content (string)[, name]}], content parts joined
  std::string prompt_text;              // text: the prompt, when given as text
  std::vector<int32_t> prompt_tokens;   // text: the prompt, when given as token ids
  bool prompt_is_tokens = false;
  std::optional<int> max_tokens;        // absent: the rest of the context (chat) or 16 (text)
  engine::SamplingParams sampling;      // OpenAI defaults: temperature 1, no top-k/top-p/min-p
  bool seed_given = false;
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false;           // stream_options.include_usage
  bool ignore_eos = false;              // extension (benchmarks)
};

// Both throw ApiError: 400 for malformed JSON, wrong types and values out of range.
CompletionRequest parse_chat_request(std::string_view body);
CompletionRequest parse_completion_request(std::string_view body);

// OpenAI's default sampling (temperature 1, top-p 1, no top-k, min-p or repetition penalty), not
// the CLI's llama.cpp defaults: API clients expect the plain distribution unless they ask.
engine::SamplingParams api_default_sampling();

}  // namespace anychip::server
