#pragma once
// What the server serves once loading is done: the model, its engine, the chat template and the
// id clients name it by. Built once after loading; read-only (and thread-safe) from then on.
#include <memory>
#include <string>
#include <vector>

#include "engine/serving_engine.h"
#include "model/model.h"
#include "server/request_parse.h"
#include "template/chat_template.h"

namespace anychip::server {

class ServedModel {
 public:
  // template_text: the template to chat with (the model's own, a --chat-template file, or ChatML).
  ServedModel(model::Model& model, engine::ServingEngine& engine, std::string model_id, const std::string& template_text);

  const std::string& id() const { return id_; }
  engine::ServingEngine& engine() const { return engine_; }
  const model::Model& model() const { return model_; }
  int64_t ctx_size() const { return engine_.options().ctx_size; }
  // The longest sequence (prompt + generated) one request can have: the context, or the whole KV
  // pool when that is smaller.
  int64_t max_sequence_tokens() const;

  // True for the id /v1/models lists (the file stem or --alias).
  bool answers_to(const std::string& name) const;
  // The request's prompt as token ids: chat messages rendered through the template (a template
  // error is a 400 on 'messages'), text tokenized with BOS, token ids as given.
  std::vector<int32_t> prompt_tokens(const CompletionRequest& request) const;

 private:
  model::Model& model_;
  engine::ServingEngine& engine_;
  std::string id_;
  ChatTemplate template_;
  std::string bos_, eos_;
};

// The template to chat with: the file's text when given, else the model's own, else ChatML.
// `source` says which, for the startup log.
std::string choose_chat_template(const model::Model& model, const std::string& template_file, std::string& source);

// The id of a model file as /v1/models lists it: the file name without directory and .gguf.
std::string model_id_from_path(const std::string& path);

}  // namespace anychip::server
