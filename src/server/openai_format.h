#pragma once
// Builds the OpenAI response objects (chat.completion, text_completion) and their streamed chunks
// from what the engine reported. Pure functions, so their exact shape is unit-tested.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "engine/generator.h"

namespace anychip::server {

struct Usage {
  int prompt_tokens = 0;
  int completion_tokens = 0;
};

// Identity shared by every object of one response.
struct ResponseMeta {
  bool chat = true;
  std::string id;       // chatcmpl-... / cmpl-...
  int64_t created = 0;  // Unix seconds
  std::string model;
};

// "stop" for end-of-generation tokens and stop strings (and a cancelled request, which OpenAI has
// no name for), "length" when max_tokens ran out.
const char* openai_finish_reason(engine::FinishReason r);

// A fresh response id with the endpoint's prefix.
std::string make_response_id(bool chat);

nlohmann::ordered_json usage_json(const Usage& u);

// The whole (non-streamed) response.
nlohmann::ordered_json completion_response(const ResponseMeta& meta, const std::string& text,
                                           engine::FinishReason finish, const Usage& usage);

// One streamed chunk. Chat: `role` (first chunk) and/or `content` in the delta; text: `content`
// as the choice's text. finish: the last chunk. with_usage_null: include "usage": null, as OpenAI
// does on every chunk but the last when stream_options.include_usage is set.
nlohmann::ordered_json completion_chunk(const ResponseMeta& meta, const std::optional<std::string>& role,
                                        const std::optional<std::string>& content,
                                        std::optional<engine::FinishReason> finish, bool with_usage_null);
// The final usage-only chunk (empty choices).
nlohmann::ordered_json usage_chunk(const ResponseMeta& meta, const Usage& usage);

}  // namespace anychip::server
