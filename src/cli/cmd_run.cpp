// anychip run: generate text from a prompt, streamed, or as one JSON object for checkers.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "backend/registry.h"
#include "cli/chat_loop.h"
#include "cli/commands.h"
#include "engine/generator.h"
#include "model/model.h"
#include "util/error.h"

namespace anychip::cli {
namespace {

struct RunOptions {
  std::string model_path;
  std::string prompt;
  std::string prompt_file;
  int n_predict = 128;
  engine::SamplingParams sampling;
  int threads = 0;
  int ctx_size = 0;
  std::string device = "cpu";
  bool json = false;
  bool logits = false;
  bool stop_at_eos = false;
  bool no_echo = false;
  std::vector<std::string> stop;
  bool chat = false;
  bool show_prompt = false;
  std::string system_prompt;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read prompt file '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int run(const RunOptions& o) {
  if (!o.prompt_file.empty() && !o.prompt.empty()) throw Error("give either -p or -f, not both");
  const std::string prompt = o.prompt_file.empty() ? o.prompt : read_file(o.prompt_file);
  o.sampling.validate();

  backend::DeviceOptions dopts;
  dopts.threads = o.threads;
  auto device = backend::create_device(o.device, dopts);
  auto model = model::Model::load(o.model_path, *device);

  if (o.chat) {
    ChatLoopOptions copts;
    copts.sampling = o.sampling;
    copts.n_ctx = o.ctx_size > 0 ? o.ctx_size : std::min<int64_t>(model->config().n_ctx_train, 4096);
    copts.max_reply_tokens = o.n_predict;
    copts.system_prompt = o.system_prompt;
    copts.show_prompt = o.show_prompt;
    return run_chat_loop(*model, copts);
  }
  const std::vector<int32_t> prompt_ids = model->tokenizer().encode(prompt, true, true);
  if (prompt_ids.empty()) throw Error("the prompt tokenizes to nothing; give a non-empty prompt");
  const int64_t wanted = static_cast<int64_t>(prompt_ids.size()) + o.n_predict;
  const int64_t n_ctx = o.ctx_size > 0 ? o.ctx_size : std::min<int64_t>(std::max<int64_t>(wanted, 1), model->config().n_ctx_train);
  if (wanted > n_ctx) {
    throw Error("prompt (" + std::to_string(prompt_ids.size()) + " tokens) plus -n " + std::to_string(o.n_predict) +
                " exceeds the context size " + std::to_string(n_ctx) +
                (o.ctx_size > 0 ? "" : " (the model's training context; raise it with --ctx-size)"));
  }
  model::KvCache cache = model->make_cache(n_ctx);
  engine::Sampler sampler(o.sampling);
  engine::GenerateOptions gopts;
  gopts.n_predict = o.n_predict;
  gopts.stop_at_eos = o.json ? o.stop_at_eos : true;
  gopts.collect_logits = o.json && o.logits;
  gopts.stop = o.stop;

  if (o.json) {
    const engine::GenerateResult r = engine::generate(*model, cache, prompt_ids, gopts, sampler);
    nlohmann::json out;
    out["prompt_ids"] = prompt_ids;
    out["ids"] = r.ids;
    out["text"] = r.text;
    out["finish_reason"] = engine::finish_reason_name(r.finish);
    if (o.logits) out["logits"] = r.logits;
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }
  if (!o.no_echo) {
    // Echo the prompt as its tokens read back, as llama.cpp's CLI does (SentencePiece's space
    // prefix shows as a leading space).
    for (int32_t id : prompt_ids) std::cout << model->tokenizer().token_to_piece(id);
    std::cout << std::flush;
  }
  engine::generate(*model, cache, prompt_ids, gopts, sampler, [](std::string_view text) {
    std::cout << text << std::flush;
  });
  std::cout << "\n";
  return 0;
}

}  // namespace

Action add_run_command(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Generate text from a prompt");
  cmd->add_option("-m,--model", o->model_path, "GGUF model file")->required();
  cmd->add_option("-p,--prompt", o->prompt, "Prompt text");
  cmd->add_option("-f,--file", o->prompt_file, "Read the prompt from a file");
  cmd->add_option("-n,--n-predict", o->n_predict, "Tokens to generate")->check(CLI::Range(0, 1 << 24));
  cmd->add_option("--temp", o->sampling.temperature, "Sampling temperature (0 = greedy)")->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--top-k", o->sampling.top_k, "Keep the k most likely tokens (0 = all)")->check(CLI::Range(0, 1 << 30));
  cmd->add_option("--top-p", o->sampling.top_p, "Nucleus sampling threshold")->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--min-p", o->sampling.min_p, "Drop tokens below this fraction of the top probability")->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--repeat-penalty", o->sampling.repeat_penalty, "Penalize repeating recent tokens (1 = off)")->check(CLI::Range(0.01, 100.0));
  cmd->add_option("--repeat-last-n", o->sampling.repeat_last_n, "Recent tokens the penalties look at")->check(CLI::Range(0, 1 << 20));
  cmd->add_option("--frequency-penalty", o->sampling.frequency_penalty, "Subtract per occurrence in recent tokens")->check(CLI::Range(-100.0, 100.0));
  cmd->add_option("--presence-penalty", o->sampling.presence_penalty, "Subtract once if in recent tokens")->check(CLI::Range(-100.0, 100.0));
  cmd->add_option("--stop", o->stop, "Stop before this text (repeatable)");
  cmd->add_option("-s,--seed", o->sampling.seed, "Random seed");
  cmd->add_option("-t,--threads", o->threads, "CPU threads (default: all cores)")->check(CLI::Range(1, 1024));
  cmd->add_option("-c,--ctx-size", o->ctx_size, "Context size in tokens (default: prompt + n, up to the model's)")->check(CLI::Range(1, 1 << 24));
  cmd->add_option("--device", o->device, "Device: cpu (default), cuda[:N] or vulkan[:N] (see info --devices)");
  CLI::Option* json = cmd->add_flag("--json", o->json, "Print one JSON object {prompt_ids, ids, text} instead of streaming");
  cmd->add_flag("--logits", o->logits, "With --json: include the logits after the prompt and after each token")->needs(json);
  cmd->add_flag("--stop-at-eos", o->stop_at_eos, "With --json: stop at end-of-sequence")->needs(json);
  cmd->add_flag("--no-echo", o->no_echo, "Do not print the prompt before the generated text");
  CLI::Option* chat = cmd->add_flag("--chat", o->chat, "Interactive chat with the model's chat template");
  cmd->add_option("--system", o->system_prompt, "With --chat: a system message")->needs(chat);
  cmd->add_flag("--show-prompt", o->show_prompt, "With --chat: print each rendered prompt to stderr")->needs(chat);
  json->excludes(chat);
  return [o] { return run(*o); };
}

}  // namespace anychip::cli
