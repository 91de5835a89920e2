#include "loadgen/reply.h"

#include <nlohmann/json.hpp>

namespace anychip::loadgen {
namespace {

using nlohmann::json;

std::string clip(std::string_view s, size_t n = 120) {
  std::string out(s.substr(0, n));
  for (char& c : out)
    if (c == '\n' || c == '\r') c = ' ';
  return s.size() > n ? out + "..." : out;
}

// The server's message from an {"error": {...}} or {"error": "..."} object.
std::string error_message(const json& j) {
  const json& e = j["error"];
  if (e.is_string()) return clip(e.get<std::string>(), 200);
  if (e.is_object() && e.contains("message") && e["message"].is_string()) return clip(e["message"].get<std::string>(), 200);
  return clip(e.dump(), 200);
}

size_t count_words(std::string_view s) {
  size_t n = 0;
  bool in_word = false;
  for (char c : s) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

// The text of the first choice: choices[0].<container>.content for chat ("delta" streamed,
// "message" whole), choices[0].text for completions. Null when absent or not a string.
const std::string* choice_text(const json& j, Endpoint endpoint, const char* container) {
  if (!j.contains("choices") || !j["choices"].is_array() || j["choices"].empty()) return nullptr;
  const json& c = j["choices"][0];
  const json* text = nullptr;
  if (endpoint == Endpoint::chat) {
    if (c.contains(container) && c[container].is_object() && c[container].contains("content")) text = &c[container]["content"];
  } else if (c.contains("text")) {
    text = &c["text"];
  }
  return text && text->is_string() ? &text->get_ref<const std::string&>() : nullptr;
}

// Servers may send "usage": null on every chunk but the last; only integers are taken.
void read_usage(const json& j, std::optional<int>& prompt, std::optional<int>& completion) {
  if (!j.contains("usage") || !j["usage"].is_object()) return;
  const json& u = j["usage"];
  if (u.contains("prompt_tokens") && u["prompt_tokens"].is_number_integer()) prompt = u["prompt_tokens"].get<int>();
  if (u.contains("completion_tokens") && u["completion_tokens"].is_number_integer())
    completion = u["completion_tokens"].get<int>();
}

}  // namespace

void Reply::on_choice_text(std::string_view text, double t) {
  if (text.empty()) return;  // role-only and finish-reason chunks carry no token
  if (!first_content_) {
    first_content_ = t;
  } else {
    itl_.push_back(t - *last_content_);
  }
  last_content_ = t;
  ++content_chunks_;
}

bool Reply::on_event(std::string_view data, double t) {
  if (data == "[DONE]") return true;
  const json j = json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    error_ = "malformed stream event: " + clip(data);
    return false;
  }
  if (j.contains("error") && !j["error"].is_null()) {
    error_ = "server error in stream: " + error_message(j);
    return false;
  }
  last_event_ = t;
  if (const std::string* text = choice_text(j, endpoint_, "delta")) on_choice_text(*text, t);
  read_usage(j, usage_prompt_, usage_completion_);
  return true;
}

void Reply::on_body(std::string_view body, double t) {
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    error_ = "malformed reply: " + clip(body);
    return;
  }
  if (j.contains("error") && !j["error"].is_null()) {
    error_ = "server error: " + error_message(j);
    return;
  }
  last_event_ = t;
  if (const std::string* text = choice_text(j, endpoint_, "message")) {
    on_choice_text(*text, t);
    body_words_ = count_words(*text);
  }
  read_usage(j, usage_prompt_, usage_completion_);
}

std::string http_status_error(int status, std::string_view body) {
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  const std::string detail = j.is_object() && j.contains("error") ? error_message(j) : clip(body, 200);
  return "HTTP " + std::to_string(status) + (detail.empty() ? "" : ": " + detail);
}

RequestOutcome Reply::finish(int prompt_tokens, double ended) const {
  RequestOutcome o;
  o.start = sent_;
  o.end = ended;
  if (!error_.empty()) {
    o.error = error_;
    return o;
  }
  if (!first_content_) {
    o.error = "no content received";
    return o;
  }
  o.status = Status::completed;
  o.ttft = *first_content_ - sent_;
  o.e2e = last_event_ - sent_;
  o.itl = itl_;
  o.prompt_tokens = usage_prompt_.value_or(prompt_tokens);
  // Without usage a streamed reply counts one token per content chunk (what servers send when
  // they stream token by token); a whole body counts its words.
  const size_t fallback = body_words_ > 0 ? body_words_ : content_chunks_;
  o.output_tokens = usage_completion_.value_or(static_cast<int>(fallback));
  return o;
}

}  // namespace anychip::loadgen
