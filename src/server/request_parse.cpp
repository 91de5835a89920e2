#include "server/request_parse.h"

#include <cmath>
#include <limits>

#include "server/api_error.h"

namespace anychip::server {
namespace {

using json = nlohmann::json;

json parse_object(std::string_view body) {
  // No exceptions from the parser: a malformed body is an expected input, not a failure.
  json doc = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    throw ApiError(400,
                   "We could not parse the JSON body of your request. The body must be a valid JSON object "
                   "(check quoting and escapes).");
  }
  if (!doc.is_object()) throw ApiError(400, "The request body must be a JSON object.");
  return doc;
}

// Missing and null mean "use the default" for every optional field, as in OpenAI's API.
const json* field(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string type_name(const json& v) { return v.type_name(); }

std::optional<int64_t> get_int(const json& obj, const char* key, int64_t lo, int64_t hi) {
  const json* v = field(obj, key);
  if (!v) return std::nullopt;
  int64_t x = 0;
  if (v->is_number_integer()) {
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      throw bad_param(key, std::string("'") + key + "' is too large");
    }
    x = v->get<int64_t>();
  } else if (v->is_number_float() && std::isfinite(v->get<double>()) && std::trunc(v->get<double>()) == v->get<double>() &&
             std::fabs(v->get<double>()) < 9e15) {
    x = static_cast<int64_t>(v->get<double>());  // 16.0 is an integer too
  } else {
    throw bad_param(key, std::string("'") + key + "' must be an integer, got " + type_name(*v));
  }
  if (x < lo || x > hi) {
    throw bad_param(key, std::string("'") + key + "' must be between " + std::to_string(lo) + " and " +
                             std::to_string(hi) + ", got " + std::to_string(x));
  }
  return x;
}

std::optional<double> get_number(const json& obj, const char* key, double lo, double hi, bool lo_open = false) {
  const json* v = field(obj, key);
  if (!v) return std::nullopt;
  if (!v->is_number()) throw bad_param(key, std::string("'") + key + "' must be a number, got " + type_name(*v));
  const double x = v->get<double>();
  if (!std::isfinite(x) || x < lo || x > hi || (lo_open && x == lo)) {
    throw bad_param(key, std::string("'") + key + "' must be in " + (lo_open ? "(" : "[") + json(lo).dump() + ", " +
                             json(hi).dump() + "], got " + json(x).dump());
  }
  return x;
}

std::optional<bool> get_bool(const json& obj, const char* key) {
  const json* v = field(obj, key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) throw bad_param(key, std::string("'") + key + "' must be a boolean, got " + type_name(*v));
  return v->get<bool>();
}

// Fields shared by both endpoints: model, sampling, stop, n, stream.
void parse_common(const json& doc, CompletionRequest& r) {
  if (const json* m = field(doc, "model")) {
    if (!m->is_string()) throw bad_param("model", "'model' must be a string, got " + type_name(*m));
    r.model = m->get<std::string>();
  }
  if (auto n = get_int(doc, "n", 1, 128); n && *n != 1) throw bad_param("n", "only n=1 is supported");

  r.sampling = api_default_sampling();
  if (auto t = get_number(doc, "temperature", 0, 2)) r.sampling.temperature = static_cast<float>(*t);
  if (auto p = get_number(doc, "top_p", 0, 1, /*lo_open=*/true)) r.sampling.top_p = static_cast<float>(*p);
  if (auto p = get_number(doc, "presence_penalty", -2, 2)) r.sampling.presence_penalty = static_cast<float>(*p);
  if (auto p = get_number(doc, "frequency_penalty", -2, 2)) r.sampling.frequency_penalty = static_cast<float>(*p);
  // Extensions many OpenAI-compatible servers accept.
  if (auto k = get_int(doc, "top_k", 0, 1 << 30)) r.sampling.top_k = static_cast<int>(*k);
  if (auto p = get_number(doc, "min_p", 0, 1)) r.sampling.min_p = static_cast<float>(*p);
  if (auto p = get_number(doc, "repetition_penalty", 0, 100, /*lo_open=*/true)) r.sampling.repeat_penalty = static_cast<float>(*p);
  if (auto s = get_int(doc, "seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max())) {
    r.sampling.seed = static_cast<uint64_t>(*s);  // negative seeds are valid in OpenAI's API
    r.seed_given = true;
  }

  if (const json* s = field(doc, "stop")) {
    if (s->is_string()) {
      r.stop.push_back(s->get<std::string>());
    } else if (s->is_array()) {
      if (s->size() > kMaxStopStrings) {
        throw bad_param("stop", "'stop' takes at most " + std::to_string(kMaxStopStrings) + " strings, got " +
                                    std::to_string(s->size()));
      }
      for (const json& x : *s) {
        if (!x.is_string()) throw bad_param("stop", "'stop' must be a string or an array of strings");
        r.stop.push_back(x.get<std::string>());
      }
    } else {
      throw bad_param("stop", "'stop' must be a string or an array of strings, got " + type_name(*s));
    }
    // An empty stop string would end every generation at once; it means nothing, so drop it.
    std::erase(r.stop, std::string());
  }

  r.stream = get_bool(doc, "stream").value_or(false);
  if (const json* so = field(doc, "stream_options")) {
    if (!so->is_object()) throw bad_param("stream_options", "'stream_options' must be an object");
    if (const json* u = field(*so, "include_usage")) {
      if (!u->is_boolean()) throw bad_param("stream_options.include_usage", "'stream_options.include_usage' must be a boolean");
      r.include_usage = u->get<bool>();
    }
  }
  r.ignore_eos = get_bool(doc, "ignore_eos").value_or(false);
}

void parse_max_tokens(const json& doc, CompletionRequest& r, bool chat) {
  constexpr int64_t kMax = 1 << 24;
  auto legacy = get_int(doc, "max_tokens", 1, kMax);
  auto modern = chat ? get_int(doc, "max_completion_tokens", 1, kMax) : std::nullopt;
  if (modern) r.max_tokens = static_cast<int>(*modern);
  else if (legacy) r.max_tokens = static_cast<int>(*legacy);
}

std::string content_text(const json& content, const std::string& where) {
  if (content.is_null()) return "";  // e.g. an assistant turn that only called tools
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) {
    throw bad_param(where, "'" + where + "' must be a string or an array of content parts, got " + type_name(content));
  }
  std::string text;
  for (size_t i = 0; i < content.size(); ++i) {
    const json& part = content[i];
    const std::string at = where + "[" + std::to_string(i) + "]";
    if (!part.is_object()) throw bad_param(at, "'" + at + "' must be an object");
    auto type = part.find("type");
    if (type == part.end() || !type->is_string()) throw bad_param(at + ".type", "'" + at + ".type' must be a string");
    if (*type != "text") {
      throw bad_param(at + ".type", "only text content parts are supported, got '" + type->get<std::string>() + "'");
    }
    auto t = part.find("text");
    if (t == part.end() || !t->is_string()) throw bad_param(at + ".text", "'" + at + ".text' must be a string");
    // Parts are joined by newlines, as vLLM does, so words of adjacent parts do not run together.
    if (i > 0) text += "\n";
    text += t->get<std::string>();
  }
  return text;
}

nlohmann::ordered_json parse_messages(const json& doc) {
  const json* m = field(doc, "messages");
  if (!m) throw bad_param("messages", "'messages' is required");
  if (!m->is_array()) throw bad_param("messages", "'messages' must be an array, got " + type_name(*m));
  if (m->empty()) throw bad_param("messages", "'messages' must contain at least one message");
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (size_t i = 0; i < m->size(); ++i) {
    const json& msg = (*m)[i];
    const std::string at = "messages[" + std::to_string(i) + "]";
    if (!msg.is_object()) throw bad_param(at, "'" + at + "' must be an object");
    auto role = msg.find("role");
    if (role == msg.end() || !role->is_string()) throw bad_param(at + ".role", "'" + at + ".role' must be a string");
    const std::string r = role->get<std::string>();
    if (r != "system" && r != "developer" && r != "user" && r != "assistant" && r != "tool") {
      throw bad_param(at + ".role", "'" + at + ".role' must be one of system, developer, user, assistant, tool; got '" +
                                        r + "'");
    }
    auto content = msg.find("content");
    if (content == msg.end() && r != "assistant") throw bad_param(at + ".content", "'" + at + ".content' is required");
    nlohmann::ordered_json item;
    item["role"] = r;
    item["content"] = content == msg.end() ? std::string() : content_text(*content, at + ".content");
    if (auto name = msg.find("name"); name != msg.end() && name->is_string()) item["name"] = *name;
    out.push_back(std::move(item));
  }
  return out;
}

void reject_unsupported(const json& doc) {
  if (get_bool(doc, "echo").value_or(false)) throw bad_param("echo", "'echo' is not supported");
  if (auto b = get_int(doc, "best_of", 1, 128); b && *b != 1) throw bad_param("best_of", "only best_of=1 is supported");
}

}  // namespace

engine::SamplingParams api_default_sampling() {
  engine::SamplingParams s;
  s.temperature = 1.0f;
  s.top_k = 0;
  s.top_p = 1.0f;
  s.min_p = 0.0f;
  s.repeat_penalty = 1.0f;
  return s;
}

CompletionRequest parse_chat_request(std::string_view body) {
  const json doc = parse_object(body);
  CompletionRequest r;
  r.kind = CompletionRequest::Kind::Chat;
  r.messages = parse_messages(doc);
  parse_common(doc, r);
  parse_max_tokens(doc, r, /*chat=*/true);
  if (const json* lp = field(doc, "logprobs")) {
    if (!lp->is_boolean()) throw bad_param("logprobs", "'logprobs' must be a boolean");
    if (lp->get<bool>()) throw bad_param("logprobs", "'logprobs' is not supported");
  }
  return r;
}

CompletionRequest parse_completion_request(std::string_view body) {
  const json doc = parse_object(body);
  CompletionRequest r;
  r.kind = CompletionRequest::Kind::Text;
  const json* p = field(doc, "prompt");
  if (!p) throw bad_param("prompt", "'prompt' is required");
  auto token_ids = [&](const json& arr) {
    std::vector<int32_t> ids;
    for (const json& x : arr) {
      if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() > std::numeric_limits<int32_t>::max()) {
        throw bad_param("prompt", "'prompt' token ids must be non-negative integers");
      }
      ids.push_back(static_cast<int32_t>(x.get<int64_t>()));
    }
    return ids;
  };
  if (p->is_string()) {
    r.prompt_text = p->get<std::string>();
  } else if (p->is_array() && !p->empty() && (*p)[0].is_string()) {
    if (p->size() != 1) throw bad_param("prompt", "only one prompt per request is supported");
    r.prompt_text = (*p)[0].get<std::string>();
  } else if (p->is_array() && !p->empty() && (*p)[0].is_array()) {
    if (p->size() != 1) throw bad_param("prompt", "only one prompt per request is supported");
    r.prompt_tokens = token_ids((*p)[0]);
    r.prompt_is_tokens = true;
  } else if (p->is_array() && !p->empty()) {
    r.prompt_tokens = token_ids(*p);
    r.prompt_is_tokens = true;
  } else {
    throw bad_param("prompt", "'prompt' must be a string, an array of one string, or an array of token ids");
  }
  if (r.prompt_is_tokens && r.prompt_tokens.empty()) throw bad_param("prompt", "'prompt' must not be empty");
  parse_common(doc, r);
  parse_max_tokens(doc, r, /*chat=*/false);
  reject_unsupported(doc);
  if (const json* lp = field(doc, "logprobs"); lp && !(lp->is_number_integer() && lp->get<int64_t>() == 0)) {
    throw bad_param("logprobs", "'logprobs' is not supported");
  }
  return r;
}

}  // namespace anychip::server
