#include "server/openai_format.h"

#include <random>

namespace anychip::server {

using ojson = nlohmann::ordered_json;

const char* openai_finish_reason(engine::FinishReason r) {
  return r == engine::FinishReason::Length ? "length" : "stop";
}

std::string make_response_id(bool chat) {
  // Ids need to be unique, not secret: a per-thread generator seeded once from the OS is enough.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = chat ? "chatcmpl-" : "cmpl-";
  for (int i = 0; i < 24; ++i) id += kHex[rng() & 15];
  return id;
}

ojson usage_json(const Usage& u) {
  ojson j;
  j["prompt_tokens"] = u.prompt_tokens;
  j["completion_tokens"] = u.completion_tokens;
  j["total_tokens"] = u.prompt_tokens + u.completion_tokens;
  return j;
}

namespace {

ojson head(const ResponseMeta& meta, bool chunk) {
  ojson j;
  j["id"] = meta.id;
  j["object"] = meta.chat ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion";
  j["created"] = meta.created;
  j["model"] = meta.model;
  return j;
}

}  // namespace

ojson completion_response(const ResponseMeta& meta, const std::string& text, engine::FinishReason finish,
                          const Usage& usage) {
  ojson j = head(meta, false);
  ojson choice;
  choice["index"] = 0;
  if (meta.chat) {
    choice["message"] = ojson{{"role", "assistant"}, {"content", text}};
  } else {
    choice["text"] = text;
  }
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = openai_finish_reason(finish);
  j["choices"] = ojson::array({choice});
  j["usage"] = usage_json(usage);
  return j;
}

ojson completion_chunk(const ResponseMeta& meta, const std::optional<std::string>& role,
                       const std::optional<std::string>& content, std::optional<engine::FinishReason> finish,
                       bool with_usage_null) {
  ojson j = head(meta, true);
  ojson choice;
  choice["index"] = 0;
  if (meta.chat) {
    ojson delta = ojson::object();
    if (role) delta["role"] = *role;
    if (content) delta["content"] = *content;
    choice["delta"] = std::move(delta);
  } else {
    choice["text"] = content.value_or("");
  }
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = finish ? ojson(openai_finish_reason(*finish)) : ojson(nullptr);
  j["choices"] = ojson::array({choice});
  if (with_usage_null) j["usage"] = nullptr;
  return j;
}

ojson usage_chunk(const ResponseMeta& meta, const Usage& usage) {
  ojson j = head(meta, true);
  j["choices"] = ojson::array();
  j["usage"] = usage_json(usage);
  return j;
}

}  // namespace anychip::server
