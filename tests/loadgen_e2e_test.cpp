// The load generator end to end against a fake OpenAI-compatible server in this process: the
// measured TTFT, ITL, TPOT and token counts match the server's known timing, --disconnect cuts
// streams the server sees cut, failures are counted with reasons, and 200+ requests can be in
// flight at once. Then the CLI: its JSON, and clear errors with the right exit codes.
#include <gtest/gtest.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <thread>

#include "loadgen/client.h"
#include "loadgen/metrics.h"
#include "loadgen/plan.h"
#include "loadgen/runner.h"
#include "support/fake_openai_server.h"
#include "support/run_command.h"
#include "util/error.h"

namespace anychip::loadgen {
namespace {

using std::chrono::milliseconds;
using testing::FakeOpenAiServer;
using testing::FakeServerConfig;

class LoadgenE2e : public ::testing::Test {
 protected:
  // A client closing a stream makes the server's next write hit a closed socket.
  void SetUp() override { std::signal(SIGPIPE, SIG_IGN); }

  static ClientOptions client_for(const FakeOpenAiServer& server, Endpoint endpoint = Endpoint::chat) {
    ClientOptions c;
    c.endpoint = endpoint;
    c.url = resolve_url(server.url(), endpoint);
    c.model = "fake-model";
    c.read_timeout_s = 20;
    return c;
  }
  static RunResult run(const ClientOptions& c, const PlanOptions& plan, size_t max_in_flight) {
    return run_plan(make_plan(plan), max_in_flight,
                    [&](const RequestSpec& spec, Clock::time_point start) { return send_request(c, spec, start); });
  }
};

TEST_F(LoadgenE2e, TimingAndTokensMatchTheServer) {
  FakeServerConfig cfg;
  cfg.first_delay = milliseconds(120);
  cfg.gap = milliseconds(40);
  cfg.tokens_per_chunk = 2;  // usage says twice the chunks: the report must follow usage
  FakeOpenAiServer server(cfg);
  PlanOptions plan;
  plan.requests = 6;
  plan.prompt_tokens = 16;
  plan.gen_tokens = 5;
  const RunResult r = run(client_for(server), plan, 3);
  const Metrics m = compute_metrics(r.outcomes, r.duration, {});
  ASSERT_EQ(m.completed, 6u) << (m.failure_reasons.empty() ? "" : m.failure_reasons.begin()->first);
  EXPECT_EQ(r.peak_in_flight, 3u);
  EXPECT_EQ(server.peak_in_flight.load(), 3);
  EXPECT_EQ(m.total_output_tokens, 6 * 5 * 2);
  EXPECT_EQ(m.total_input_tokens, 6 * 7);  // the server's usage.prompt_tokens

  // TTFT is the 120 ms before the first content chunk (the role-only chunk comes at once).
  // Sleeps never end early, so the lower bounds are exact; the upper ones allow a busy machine
  // (sanitizers, tests running beside this one).
  ASSERT_TRUE(m.ttft_ms && m.itl_ms && m.tpot_ms && m.e2e_ms);
  EXPECT_GE(m.ttft_ms->p50, 120);
  EXPECT_LT(m.ttft_ms->p50, 120 + 200);
  EXPECT_EQ(m.itl_ms->count, 6u * 4u);  // 5 chunks: 4 gaps per request
  EXPECT_GT(m.itl_ms->p50, 40 - 15);
  EXPECT_LT(m.itl_ms->mean, 40 + 60);
  // TPOT = (e2e - TTFT) / (10 - 1): usage counts 10 tokens over 4 gaps of 40 ms.
  EXPECT_NEAR(m.tpot_ms->mean, 4 * 40 / 9.0, 12);
  EXPECT_GE(m.e2e_ms->p50, 120 + 4 * 40);
  for (const RequestOutcome& o : r.outcomes) {
    double gaps = 0;
    for (double g : o.itl) gaps += g;
    EXPECT_LE(o.ttft + gaps, o.e2e + 1e-9);  // the chunks lie between first token and end
  }
  // Two rounds of three 280 ms requests.
  EXPECT_GE(m.duration_s, 2 * 0.28);
  EXPECT_LT(m.duration_s, 2 * 0.28 + 2.0);

  // What was asked: length, ignore_eos, greedy, usage in the stream.
  const nlohmann::json body = server.last_body();
  EXPECT_EQ(body["max_tokens"], 5);
  EXPECT_EQ(body["ignore_eos"], true);
  EXPECT_EQ(body["temperature"], 0);
  EXPECT_EQ(body["stream_options"]["include_usage"], true);
  EXPECT_EQ(body["model"], "fake-model");
  EXPECT_EQ(body["messages"][0]["role"], "user");
}

TEST_F(LoadgenE2e, CompletionsEndpointAndChunkCountsWithoutUsage) {
  FakeServerConfig cfg;
  cfg.first_delay = milliseconds(10);
  cfg.gap = milliseconds(5);
  cfg.usage = false;
  FakeOpenAiServer server(cfg);
  PlanOptions plan;
  plan.requests = 3;
  plan.gen_tokens = 7;
  const RunResult r = run(client_for(server, Endpoint::completions), plan, 1);
  const Metrics m = compute_metrics(r.outcomes, r.duration, {});
  ASSERT_EQ(m.completed, 3u);
  EXPECT_EQ(m.total_output_tokens, 3 * 7);
  EXPECT_EQ(m.total_input_tokens, 3 * 128);  // the nominal prompt length
  EXPECT_TRUE(server.last_body().contains("prompt"));
}

TEST_F(LoadgenE2e, NonStreamed) {
  FakeServerConfig cfg;
  cfg.first_delay = milliseconds(30);
  FakeOpenAiServer server(cfg);
  ClientOptions c = client_for(server);
  c.stream = false;
  PlanOptions plan;
  plan.requests = 2;
  plan.gen_tokens = 4;
  const Metrics m = [&] {
    const RunResult r = run(c, plan, 2);
    return compute_metrics(r.outcomes, r.duration, {});
  }();
  ASSERT_EQ(m.completed, 2u);
  EXPECT_EQ(m.total_output_tokens, 8);
  EXPECT_FALSE(m.itl_ms);
  EXPECT_GE(m.e2e_ms->p50, 30);
}

TEST_F(LoadgenE2e, DisconnectAbandonsStreamsAndTheServerSeesIt) {
  FakeServerConfig cfg;
  cfg.first_delay = milliseconds(20);
  cfg.gap = milliseconds(20);
  FakeOpenAiServer server(cfg);
  PlanOptions plan;
  plan.requests = 6;
  plan.gen_tokens = 15;
  plan.disconnect = 2;
  const RunResult r = run(client_for(server), plan, 3);
  const Metrics m = compute_metrics(r.outcomes, r.duration, {});
  EXPECT_EQ(m.completed, 4u);
  EXPECT_EQ(m.disconnected, 2u);
  EXPECT_EQ(m.failed, 0u);
  EXPECT_EQ(m.total_output_tokens, 4 * 15);  // abandoned requests add nothing
  for (int i = 0; i < 100 && server.cut_short.load() < 2; ++i) std::this_thread::sleep_for(milliseconds(20));
  EXPECT_EQ(server.cut_short.load(), 2);
}

TEST_F(LoadgenE2e, ServerErrorsAndRefusedConnectionsAreCountedFailures) {
  FakeServerConfig cfg;
  cfg.first_delay = milliseconds(1);
  cfg.gap = milliseconds(1);
  cfg.fail_every = 3;
  FakeOpenAiServer server(cfg);
  PlanOptions plan;
  plan.requests = 9;
  plan.gen_tokens = 3;
  RunResult r = run(client_for(server), plan, 1);
  Metrics m = compute_metrics(r.outcomes, r.duration, {});
  EXPECT_EQ(m.completed, 6u);
  EXPECT_EQ(m.failed, 3u);
  EXPECT_EQ(m.failure_reasons["HTTP 500: overloaded"], 3u);

  // A port nobody listens on: a server started and stopped leaves one free.
  std::string dead_url;
  {
    FakeOpenAiServer gone(cfg);
    dead_url = gone.url();
  }
  ClientOptions c;
  c.url = resolve_url(dead_url, Endpoint::chat);
  c.connect_timeout_s = 2;
  r = run(c, plan, 4);
  m = compute_metrics(r.outcomes, r.duration, {});
  EXPECT_EQ(m.completed, 0u);
  EXPECT_EQ(m.failed, 9u);
  ASSERT_EQ(m.failure_reasons.size(), 1u);
  EXPECT_EQ(m.failure_reasons.begin()->first, "cannot connect to " + dead_url);
  EXPECT_THROW(discover_model(c), Error);
}

TEST_F(LoadgenE2e, OpenLoopHoldsMoreThan200InFlight) {
  FakeServerConfig cfg;
  cfg.first_delay = milliseconds(1500);  // long enough that every request overlaps every other
  cfg.gap = milliseconds(1);
  FakeOpenAiServer server(cfg);
  PlanOptions plan;
  plan.requests = 240;
  plan.gen_tokens = 2;
  plan.rate = 20000;  // all sent within a few tens of ms
  const RunResult r = run(client_for(server), plan, 0);
  const Metrics m = compute_metrics(r.outcomes, r.duration, {});
  EXPECT_EQ(m.completed, 240u) << (m.failure_reasons.empty() ? "" : m.failure_reasons.begin()->first);
  EXPECT_GE(r.peak_in_flight, 200u);
  EXPECT_GE(server.peak_in_flight.load(), 200);
}

TEST_F(LoadgenE2e, CliPrintsJsonMetrics) {
  FakeServerConfig cfg;
  cfg.first_delay = milliseconds(30);
  cfg.gap = milliseconds(10);
  FakeOpenAiServer server(cfg);
  const auto res = testing::run_anychip({"loadgen", "--url", server.url(), "--concurrency", "2", "--requests", "5",
                                         "--prompt-tokens", "20", "--gen-tokens", "4", "--disconnect", "1",
                                         "--slo-ttft", "10000", "--slo-tpot", "10000", "--json"});
  ASSERT_EQ(res.exit_code, 0) << res.err;
  const auto j = nlohmann::json::parse(res.out);
  EXPECT_EQ(j["completed"], 4);
  EXPECT_EQ(j["failed"], 0);
  EXPECT_EQ(j["disconnected"], 1);
  EXPECT_EQ(j["total_output_tokens"], 16);
  EXPECT_EQ(j["config"]["model"], "fake-model");  // found at /v1/models
  for (const char* key : {"ttft_ms", "tpot_ms", "itl_ms", "e2e_ms"})
    for (const char* stat : {"mean", "p50", "p90", "p99"}) EXPECT_TRUE(j[key][stat].is_number()) << key << stat;
  EXPECT_GE(j["ttft_ms"]["p50"].get<double>(), 30);
  for (const char* key : {"duration_s", "request_throughput", "output_tok_s", "total_tok_s", "goodput_req_s"})
    EXPECT_GT(j[key].get<double>(), 0) << key;
  EXPECT_EQ(j["slo_attainment"], 1.0);

  const auto table = testing::run_anychip({"loadgen", "--url", server.url(), "--rate", "50", "--requests", "3",
                                           "--gen-tokens", "2", "--endpoint", "completions"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("Completed requests                 3"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("TTFT p99"), std::string::npos);
}

TEST_F(LoadgenE2e, CliReplaysATrace) {
  FakeServerConfig cfg;
  cfg.first_delay = milliseconds(5);
  cfg.gap = milliseconds(1);
  FakeOpenAiServer server(cfg);
  // The first 20 rows of the conversation trace span about 16 s; 100x faster is about 0.16 s.
  const std::string trace = std::string(ANYCHIP_SHARED_DIR) + "/traces/AzureLLMInferenceTrace_conv.csv";
  const auto res = testing::run_anychip({"loadgen", "--url", server.url(), "--trace", trace, "--requests", "20",
                                         "--time-scale", "100", "--json"});
  ASSERT_EQ(res.exit_code, 0) << res.err;
  const auto j = nlohmann::json::parse(res.out);
  EXPECT_EQ(j["completed"], 20);
  EXPECT_EQ(j["config"]["mode"], "trace");
  EXPECT_EQ(server.requests.load(), 20);
}

TEST_F(LoadgenE2e, CliErrors) {
  using testing::run_anychip;
  // Bad command lines: exit code 2, one clear line.
  const std::vector<std::vector<std::string>> bad_flags = {
      {"loadgen", "--url", "http://127.0.0.1:9", "--requests", "3"},
      {"loadgen", "--url", "http://127.0.0.1:9", "--concurrency", "2"},
      {"loadgen", "--url", "http://127.0.0.1:9", "--concurrency", "2", "--rate", "3", "--requests", "3"},
      {"loadgen", "--url", "127.0.0.1:9", "--concurrency", "2", "--requests", "3"},
      {"loadgen", "--url", "http://127.0.0.1:9", "--concurrency", "2", "--requests", "3", "--disconnect", "4"},
      {"loadgen", "--url", "http://127.0.0.1:9", "--concurrency", "2", "--requests", "3", "--no-stream", "--disconnect", "1"},
      {"loadgen", "--url", "http://127.0.0.1:9", "--concurrency", "0", "--requests", "3"},
      {"loadgen", "--url", "http://127.0.0.1:9", "--rate", "2", "--requests", "3", "--endpoint", "embeddings"},
      {"loadgen", "--url", "http://127.0.0.1:9", "--rate", "2", "--requests", "3", "--time-scale", "2"},
  };
  for (const auto& args : bad_flags) {
    const auto res = run_anychip(args);
    EXPECT_EQ(res.exit_code, 2) << res.err;
    EXPECT_EQ(res.err.rfind("error: ", 0), 0u) << res.err;
  }

  // Runtime failures: exit code 1, naming the cause.
  std::string dead_url;
  {
    FakeOpenAiServer gone({});
    dead_url = gone.url();
  }
  auto res = run_anychip({"loadgen", "--url", dead_url, "--concurrency", "2", "--requests", "3"});
  EXPECT_EQ(res.exit_code, 1);
  EXPECT_NE(res.err.find("cannot connect to " + dead_url), std::string::npos) << res.err;
  res = run_anychip({"loadgen", "--url", dead_url, "--model", "m", "--concurrency", "2", "--requests", "3", "--json"});
  EXPECT_EQ(res.exit_code, 1);
  EXPECT_NE(res.err.find("all 3 requests failed (cannot connect"), std::string::npos) << res.err;
  EXPECT_EQ(nlohmann::json::parse(res.out)["failed"], 3);  // the report still comes out
  res = run_anychip({"loadgen", "--url", dead_url, "--trace", "/nonexistent.csv"});
  EXPECT_EQ(res.exit_code, 1);
  EXPECT_NE(res.err.find("cannot open trace file '/nonexistent.csv'"), std::string::npos) << res.err;
}

}  // namespace
}  // namespace anychip::loadgen
