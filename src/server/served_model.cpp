#include "server/served_model.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "server/api_error.h"
#include "template/default_template.h"
#include "template/template_error.h"
#include "util/error.h"

namespace anychip::server {
namespace {

std::string token_text(const Vocab& vocab, int32_t id) {
  return id >= 0 && id < vocab.size() ? vocab.tokens[static_cast<size_t>(id)] : "";
}

}  // namespace

std::string model_id_from_path(const std::string& path) {
  return std::filesystem::path(path).stem().string();
}

std::string choose_chat_template(const model::Model& model, const std::string& template_file, std::string& source) {
  if (!template_file.empty()) {
    std::ifstream in(template_file, std::ios::binary);
    if (!in) throw Error("cannot read chat template file '" + template_file + "'");
    std::ostringstream ss;
    ss << in.rdbuf();
    source = template_file;
    return ss.str();
  }
  if (auto shipped = model.file().get_string("tokenizer.chat_template")) {
    source = "the model's tokenizer.chat_template";
    return std::string(*shipped);
  }
  source = "ChatML (the model ships no chat template)";
  return kDefaultChatTemplate;
}

ServedModel::ServedModel(model::Model& model, engine::ServingEngine& engine, std::string model_id,
                         const std::string& template_text)
    : model_(model), engine_(engine), id_(std::move(model_id)), template_(template_text) {
  const Vocab& vocab = model.tokenizer().vocab();
  bos_ = token_text(vocab, vocab.bos_id);
  eos_ = token_text(vocab, vocab.eos_id);
}

int64_t ServedModel::max_sequence_tokens() const {
  const int64_t pool = engine_.stats().kv_blocks_total * engine_.options().block_size;
  return pool > 0 ? std::min(ctx_size(), pool) : ctx_size();
}

bool ServedModel::answers_to(const std::string& name) const { return name == id_; }

std::vector<int32_t> ServedModel::prompt_tokens(const CompletionRequest& r) const {
  if (r.kind == CompletionRequest::Kind::Text) {
    if (r.prompt_is_tokens) return r.prompt_tokens;
    // As `anychip run`: BOS as the vocabulary asks, special-token text parsed.
    return model_.tokenizer().encode(r.prompt_text, true, true);
  }
  std::string text;
  try {
    text = template_.render(r.messages, /*add_generation_prompt=*/true, bos_, eos_);
  } catch (const TemplateError& e) {
    // Templates reject conversations they cannot express (e.g. roles not alternating) with
    // raise_exception; that is the client's request, not a server failure.
    throw bad_param("messages", std::string("the chat template rejected the messages: ") + e.what());
  }
  // The template writes any BOS itself; special-token text in it is parsed (as ChatSession does).
  return model_.tokenizer().encode(text, false, true);
}

}  // namespace anychip::server
