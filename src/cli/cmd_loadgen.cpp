// anychip loadgen: a load generator for any OpenAI-compatible server (closed loop, Poisson open
// loop, or an Azure trace replay), reporting vLLM benchmark_serving's latency and throughput
// metrics.
#include <csignal>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/commands.h"
#include "loadgen/client.h"
#include "loadgen/metrics.h"
#include "loadgen/plan.h"
#include "loadgen/report.h"
#include "loadgen/runner.h"
#include "loadgen/trace.h"
#include "util/error.h"

namespace anychip::cli {
namespace {

struct LoadgenOptions {
  std::string url;
  std::string endpoint = "chat";
  size_t concurrency = 0;
  double rate = 0;
  size_t requests = 0;
  int prompt_tokens = 128;
  int shared_prefix = 0;
  int gen_tokens = 128;
  std::string trace;
  double time_scale = 1.0;
  double slo_ttft = 0, slo_tpot = 0, slo_e2e = 0;
  std::string model, api_key;
  bool stream = true;
  uint64_t seed = 0;
  size_t disconnect = 0;
  int timeout_s = 120;
  bool json = false;
};

loadgen::Endpoint endpoint_of(const LoadgenOptions& o) {
  return o.endpoint == "completions" ? loadgen::Endpoint::completions : loadgen::Endpoint::chat;
}

// Checks no single option can: which of them go together. Throws CLI::ValidationError, which
// main reports as a bad command line (exit code 2).
void validate(const LoadgenOptions& o, const CLI::App& cmd) {
  const auto given = [&](const char* name) { return cmd.count(name) > 0; };
  if (!given("--concurrency") && !given("--rate") && !given("--trace"))
    throw CLI::ValidationError("loadgen needs --concurrency N (closed loop), --rate R (Poisson) or --trace FILE");
  if (!given("--trace") && !given("--requests")) throw CLI::ValidationError("--requests is required (without --trace)");
  if (o.disconnect > 0 && !o.stream) throw CLI::ValidationError("--disconnect needs streaming (drop --no-stream)");
  if (!given("--trace") && o.disconnect > o.requests)
    throw CLI::ValidationError("--disconnect " + std::to_string(o.disconnect) + " exceeds --requests " +
                               std::to_string(o.requests));
  if (given("--slo-tpot") && !o.stream)
    throw CLI::ValidationError("--slo-tpot needs streaming: without it there is no time per output token");
  try {
    loadgen::resolve_url(o.url, endpoint_of(o));
  } catch (const Error& e) {
    throw CLI::ValidationError(e.what());
  }
}

int loadgen_main(const LoadgenOptions& o, const CLI::App& cmd) {
  // A server closing a socket while a request is written must fail that request, not kill us.
  std::signal(SIGPIPE, SIG_IGN);
  const auto given = [&](const char* name) { return cmd.count(name) > 0; };

  loadgen::PlanOptions plan_options;
  plan_options.requests = o.requests;
  plan_options.prompt_tokens = o.prompt_tokens;
  plan_options.gen_tokens = o.gen_tokens;
  if (given("--rate")) plan_options.rate = o.rate;
  if (given("--trace")) plan_options.trace = loadgen::read_azure_trace(o.trace, o.requests, o.time_scale);
  plan_options.seed = o.seed;
  plan_options.disconnect = o.disconnect;
  plan_options.shared_prefix_tokens = o.shared_prefix;
  const std::vector<loadgen::PlannedRequest> plan = loadgen::make_plan(plan_options);
  if (o.disconnect > plan.size())
    throw Error("--disconnect " + std::to_string(o.disconnect) + " exceeds the trace's " + std::to_string(plan.size()) +
                " requests");

  loadgen::ClientOptions client;
  client.endpoint = endpoint_of(o);
  client.url = loadgen::resolve_url(o.url, client.endpoint);
  client.api_key = o.api_key;
  client.stream = o.stream;
  client.read_timeout_s = o.timeout_s;
  client.model = o.model.empty() ? loadgen::discover_model(client).value_or("") : o.model;

  loadgen::Slo slo;
  if (given("--slo-ttft")) slo.ttft_ms = o.slo_ttft;
  if (given("--slo-tpot")) slo.tpot_ms = o.slo_tpot;
  if (given("--slo-e2e")) slo.e2e_ms = o.slo_e2e;

  const loadgen::RunResult run = loadgen::run_plan(
      plan, o.concurrency, [&](const loadgen::RequestSpec& spec, loadgen::Clock::time_point start) {
        return loadgen::send_request(client, spec, start);
      });
  const loadgen::Metrics m = loadgen::compute_metrics(run.outcomes, run.duration, slo);

  if (o.json) {
    nlohmann::json config = {
        {"url", client.url.origin + client.url.path},
        {"model", client.model},
        {"mode", given("--trace") ? "trace" : given("--rate") ? "poisson" : "closed"},
        {"requests", plan.size()},
        {"concurrency", o.concurrency},
        {"stream", o.stream},
        {"seed", o.seed},
    };
    if (given("--rate")) config["rate"] = o.rate;
    if (given("--trace")) {
      config["trace"] = o.trace;
      config["time_scale"] = o.time_scale;
    } else {
      config["prompt_tokens"] = o.prompt_tokens;
      config["shared_prefix_tokens"] = o.shared_prefix;
      config["gen_tokens"] = o.gen_tokens;
    }
    std::cout << loadgen::metrics_json(m, run.peak_in_flight, config).dump() << "\n";
  } else {
    loadgen::print_table(std::cout, m, run.peak_in_flight);
  }
  if (m.completed == 0 && m.failed > 0) {
    throw Error("all " + std::to_string(m.failed) + " requests failed (" + m.failure_reasons.begin()->first +
                (m.failure_reasons.size() > 1 ? ", ..." : "") + ")");
  }
  return 0;
}

}  // namespace

Action add_loadgen_command(CLI::App& app) {
  auto o = std::make_shared<LoadgenOptions>();
  CLI::App* cmd = app.add_subcommand("loadgen", "Load-test an OpenAI-compatible server and report TTFT, TPOT, ITL, throughput");
  cmd->add_option("--url", o->url, "Server URL, e.g. http://localhost:8080 (or .../v1, or the full endpoint URL)")
      ->required();
  auto* conc = cmd->add_option("--concurrency", o->concurrency, "Closed loop: N workers sending back to back "
                                                                 "(with --trace: at most N in flight)")
                   ->check(CLI::Range(size_t{1}, size_t{100000}));
  auto* rate = cmd->add_option("--rate", o->rate, "Open loop: Poisson arrivals at R requests/s, no concurrency cap")
                   ->check(CLI::Range(1e-6, 1e9));
  cmd->add_option("--requests", o->requests, "Requests to send (with --trace: at most this many rows)")
      ->check(CLI::Range(size_t{1}, size_t{100000000}));
  auto* ptok = cmd->add_option("--prompt-tokens", o->prompt_tokens, "Synthetic prompt length, about one token a word")
                   ->check(CLI::Range(1, 1 << 24));
  cmd->add_option("--shared-prefix", o->shared_prefix,
                  "Start every prompt with the same ~N-token text (a system message for chat): prefix caching")
      ->check(CLI::Range(0, 1 << 24));
  auto* gtok = cmd->add_option("--gen-tokens", o->gen_tokens, "Tokens to generate per request (max_tokens, ignore_eos)")
                   ->check(CLI::Range(1, 1 << 24));
  auto* trace = cmd->add_option("--trace", o->trace, "Replay an Azure LLM inference trace CSV (arrivals and lengths)");
  cmd->add_option("--time-scale", o->time_scale, "With --trace: replay X times faster")
      ->check(CLI::Range(1e-6, 1e9))
      ->needs(trace);
  cmd->add_option("--slo-ttft", o->slo_ttft, "Goodput SLO on time to first token, ms")->check(CLI::Range(0.0, 1e12));
  cmd->add_option("--slo-tpot", o->slo_tpot, "Goodput SLO on time per output token, ms")->check(CLI::Range(0.0, 1e12));
  cmd->add_option("--slo-e2e", o->slo_e2e, "Goodput SLO on end-to-end latency, ms")->check(CLI::Range(0.0, 1e12));
  cmd->add_option("--model", o->model, "Model name sent in each request (default: the first at /v1/models)");
  cmd->add_option("--api-key", o->api_key, "Sent as 'Authorization: Bearer KEY'");
  cmd->add_option("--endpoint", o->endpoint, "API: chat (/v1/chat/completions) or completions (/v1/completions)")
      ->check(CLI::IsMember({"chat", "completions"}));
  cmd->add_flag("--stream,!--no-stream", o->stream, "Stream replies (default; needed for TTFT, TPOT and ITL)");
  cmd->add_option("--seed", o->seed, "Seed of the Poisson arrivals and the prompts");
  cmd->add_option("--disconnect", o->disconnect, "Abandon N streamed requests after their first chunk (server cancellation)");
  cmd->add_option("--timeout", o->timeout_s, "Seconds of silence after which a request fails")->check(CLI::Range(1, 86400));
  cmd->add_flag("--json", o->json, "Print one JSON object");
  conc->excludes(rate);
  rate->excludes(trace);
  ptok->excludes(trace);
  gtok->excludes(trace);
  cmd->callback([o, cmd] { validate(*o, *cmd); });
  return [o, cmd] { return loadgen_main(*o, *cmd); };
}

}  // namespace anychip::cli
