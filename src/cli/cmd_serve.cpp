// anychip serve: an OpenAI-compatible HTTP server over the serving engine. The listener starts
// before the model loads (so /health can say "loading"); SIGTERM/SIGINT drain in-flight requests
// and exit 0.

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "backend/registry.h"
#include "cli/commands.h"
#include "cli/http_lifecycle.h"
#include "engine/batch_benchmark.h"
#include "engine/serving_engine.h"
#include "model/model.h"
#include "server/byte_size.h"
#include "server/http_server.h"
#include "server/served_model.h"
#include "server/fleet_join.h"
#include "util/error.h"

namespace anychip::cli {
namespace {

struct ServeOptions {
  std::string model_path;
  std::string alias;
  std::string host = "127.0.0.1";
  int port = 8080;
  int threads = 0;
  int max_seqs = 16;
  int64_t ctx_size = 0;
  std::string kv_memory;
  std::string api_key;
  int max_queue = 256;
  std::string chat_template;
  std::string max_body = "8M";
  double drain_timeout = 30;
  int http_threads = 0;
  std::string device = "cpu";
  // Fleet membership (anychip route).
  std::vector<std::string> join;
  std::string advertise_url;
  double price_per_hour = 0;
  std::string profile_json;
  bool profile = false;
};

// A quick profile for the router's cost-slo policy, measured before the engine starts (it needs
// the model to itself): short prompts at batch 1 and at a full batch. A failure only costs the
// profile, not the server.
nlohmann::json measure_profile(model::Model& model, int max_seqs) {
  try {
    const int batch = std::max(2, std::min(max_seqs, 16));
    nlohmann::json out = nlohmann::json::array();
    for (const auto& p : engine::run_batch_benchmark(model, {1, batch}, 32, 16, 1)) {
      out.push_back({{"batch", p.batch}, {"prefill_tok_s", p.prefill_tok_s}, {"decode_tok_s", p.decode_tok_s}});
    }
    std::fprintf(stderr, "anychip serve: profile %s\n", out.dump().c_str());
    return out;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "anychip serve: no profile (%s)\n", e.what());
    return nullptr;
  }
}

// The registration `--join` sends: what the router's policies need to know about this worker.
nlohmann::json registration(const ServeOptions& o, int port, const server::ServedModel& served,
                            const engine::ServingEngine& engine, const backend::Device& device,
                            const nlohmann::json& profile) {
  // A wildcard listen address is no address to call back; the loopback is, for a local fleet.
  const std::string host = o.host == "0.0.0.0" || o.host == "::" ? "127.0.0.1" : o.host;
  return {{"url", o.advertise_url.empty() ? "http://" + host + ":" + std::to_string(port) : o.advertise_url},
          {"models", {served.id()}},
          {"device", device.info().backend + ":" + std::to_string(device.info().index) + " (" + device.info().name + ")"},
          {"price_per_hour", o.price_per_hour},
          {"max_seqs", engine.options().max_seqs},
          {"kv_blocks_total", engine.stats().kv_blocks_total},
          {"profile", profile}};
}

// Signals are blocked in every thread and taken synchronously by the main thread, so no handler
// has to be async-signal-safe and no HTTP or engine thread is interrupted.
int serve(const ServeOptions& o) {
  server::HttpOptions http;
  http.host = o.host;
  http.port = o.port;
  http.api_key = o.api_key;
  http.max_body_bytes = server::parse_byte_size(o.max_body);
  // Every running and queued request may hold a connection for its whole generation.
  http.threads = o.http_threads > 0 ? o.http_threads : std::min(std::max(o.max_seqs + o.max_queue + 8, 64), 1024);
  const uint64_t kv_bytes = o.kv_memory.empty() ? 0 : server::parse_byte_size(o.kv_memory);

  // Read before anything starts, so a bad file or URL fails fast.
  std::vector<std::string> routers;
  for (const std::string& r : o.join) routers.push_back(server::normalize_router_url(r));
  nlohmann::json profile = o.profile_json.empty() ? nlohmann::json() : server::load_profile_file(o.profile_json);

  const sigset_t signals = block_shutdown_signals();

  server::HttpServer srv(http);
  const int port = srv.bind();
  ListenerThread listener(srv);
  std::fprintf(stderr, "anychip serve: listening on http://%s:%d (loading %s)\n", o.host.c_str(), port,
               o.model_path.c_str());

  std::unique_ptr<backend::Device> device;
  std::unique_ptr<model::Model> model;
  std::unique_ptr<engine::ServingEngine> engine;
  std::unique_ptr<server::ServedModel> served;
  try {
    backend::DeviceOptions dopts;
    dopts.threads = o.threads;
    device = backend::create_device(o.device, dopts);
    model = model::Model::load(o.model_path, *device);
    if (o.profile && profile.is_null()) profile = measure_profile(*model, o.max_seqs);
    engine::EngineOptions eopts;
    eopts.max_seqs = o.max_seqs;
    eopts.ctx_size = o.ctx_size;  // 0: the engine's default (the model's context, at most 4096)
    eopts.kv_memory_bytes = kv_bytes;
    eopts.max_queue = o.max_queue;
    std::string template_source;
    const std::string template_text = server::choose_chat_template(*model, o.chat_template, template_source);
    engine = std::make_unique<engine::ServingEngine>(*model, eopts);
    const std::string id = o.alias.empty() ? server::model_id_from_path(o.model_path) : o.alias;
    served = std::make_unique<server::ServedModel>(*model, *engine, id, template_text);
    std::fprintf(stderr, "anychip serve: model '%s' ready (context %lld, %d sequences, chat template: %s)\n",
                 id.c_str(), static_cast<long long>(engine->options().ctx_size), eopts.max_seqs, template_source.c_str());
  } catch (...) {
    listener.stop();
    throw;
  }
  srv.set_ready(served.get());
  std::unique_ptr<server::FleetMember> member;
  if (!o.join.empty()) {
    server::JoinOptions jo;
    jo.router_urls = routers;
    jo.api_key = o.api_key;
    const engine::ServingEngine* eng = engine.get();
    member = std::make_unique<server::FleetMember>(jo, registration(o, port, *served, *engine, *device, profile), [eng] {
      const engine::EngineStats st = eng->stats();
      return nlohmann::json{{"running", st.running}, {"waiting", st.waiting}, {"kv_blocks_used", st.kv_blocks_used}};
    });
  }

  int sig = 0;
  sigwait(&signals, &sig);
  member.reset();  // leave the fleet first: the router stops sending while we drain
  std::fprintf(stderr, "anychip serve: %s received; draining (up to %.0fs)\n", sig == SIGINT ? "SIGINT" : "SIGTERM",
               o.drain_timeout);
  srv.begin_drain();
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(o.drain_timeout * 1000));
  if (!srv.wait_idle(deadline)) {
    std::fprintf(stderr, "anychip serve: drain timeout; cancelling the requests still running\n");
    srv.cancel_all();
    srv.wait_idle(std::chrono::steady_clock::now() + std::chrono::seconds(5));
  }
  listener.stop();
  srv.set_ready(nullptr);
  served.reset();
  engine.reset();  // stops the engine loop before the model it runs goes away
  std::fprintf(stderr, "anychip serve: stopped\n");
  return 0;
}

}  // namespace

Action add_serve_command(CLI::App& app) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "OpenAI-compatible HTTP server (chat, completions, metrics)");
  cmd->add_option("-m,--model", o->model_path, "GGUF model file")->required();
  cmd->add_option("--alias", o->alias, "Model id for clients (default: the file name without .gguf)");
  cmd->add_option("--host", o->host, "Address to listen on");
  cmd->add_option("--port", o->port, "Port (0: any free port, printed at start)")->check(CLI::Range(0, 65535));
  cmd->add_option("-t,--threads", o->threads, "CPU threads (default: all cores)")->check(CLI::Range(1, 1024));
  cmd->add_option("--max-seqs", o->max_seqs, "Sequences decoding at once")->check(CLI::Range(1, 4096));
  cmd->add_option("-c,--ctx-size", o->ctx_size, "Tokens per sequence (default: the model's, at most 4096)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 24));
  cmd->add_option("--kv-memory", o->kv_memory, "KV cache pool size, e.g. 512M, 2G (default: max-seqs full contexts)");
  cmd->add_option("--api-key", o->api_key, "Require 'Authorization: Bearer KEY' on /v1 routes");
  cmd->add_option("--max-queue", o->max_queue, "Waiting requests before new ones get 429")->check(CLI::Range(0, 1 << 20));
  cmd->add_option("--chat-template", o->chat_template, "Jinja chat template file (default: the model's, else ChatML)");
  cmd->add_option("--max-body", o->max_body, "Largest request body, e.g. 8M (larger: 413)");
  cmd->add_option("--drain-timeout", o->drain_timeout, "Seconds to let requests finish after SIGTERM/SIGINT")
      ->check(CLI::Range(0.0, 3600.0));
  cmd->add_option("--http-threads", o->http_threads, "Connections served at once (default: max-seqs + max-queue + 8, at least 64)")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--device", o->device, "Device: cpu (default), cuda[:N] or vulkan[:N] (see info --devices)");
  cmd->add_option("--join", o->join,
                  "Register with an `anychip route` at this URL and send heartbeats (repeatable: routers sharing a "
                  "fleet through etcd; the next is used when one stops answering)");
  cmd->add_option("--advertise-url", o->advertise_url, "With --join: the URL the router calls (default: http://HOST:PORT)");
  cmd->add_option("--price-per-hour", o->price_per_hour, "With --join: this worker's cost, for the cost-slo policy")
      ->check(CLI::Range(0.0, 1e9));
  cmd->add_option("--profile-json", o->profile_json,
                  "With --join: performance profile from `anychip bench --batch 1,8,16 --json`");
  cmd->add_flag("--profile", o->profile, "With --join: measure a quick profile at start-up (unless --profile-json)");
  return [o] { return serve(*o); };
}

}  // namespace anychip::cli
