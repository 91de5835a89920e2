// Worker selection policies as pure functions over fleet snapshots.
#include <gtest/gtest.h>

#include "router/policy.h"
#include "util/error.h"

using namespace anychip::router;

namespace {

WorkerSnapshot worker(const std::string& id, int in_flight = 0, double price = 0, bool available = true) {
  WorkerSnapshot w;
  w.id = id;
  w.available = available;
  w.in_flight = in_flight;
  w.price_per_hour = price;
  return w;
}

PerfProfile profile(double prefill, double d1, double dmax, int max_batch) {
  PerfProfile p;
  p.has = true;
  p.prefill_tok_s = prefill;
  p.decode_tok_s_1 = d1;
  p.decode_tok_s_max = dmax;
  p.max_batch = max_batch;
  return p;
}

}  // namespace

TEST(RouterPolicy, ParsesNames) {
  EXPECT_EQ(parse_policy("round-robin"), Policy::round_robin);
  EXPECT_EQ(parse_policy("least-load"), Policy::least_load);
  EXPECT_EQ(parse_policy("cost-slo"), Policy::cost_slo);
  EXPECT_THROW(parse_policy("random"), anychip::Error);
  EXPECT_EQ(policy_name(Policy::cost_slo), "cost-slo");
}

TEST(RouterPolicy, RoundRobinCyclesAndSkipsUnavailableAndTried) {
  std::vector<WorkerSnapshot> ws = {worker("a"), worker("b", 0, 0, false), worker("c")};
  EXPECT_EQ(choose_round_robin(ws, {}, 0), 0);
  EXPECT_EQ(choose_round_robin(ws, {}, 1), 2);  // b is down: the next one
  EXPECT_EQ(choose_round_robin(ws, {}, 2), 2);
  EXPECT_EQ(choose_round_robin(ws, {}, 3), 0);
  EXPECT_EQ(choose_round_robin(ws, {0}, 0), 2);
  EXPECT_EQ(choose_round_robin(ws, {0, 2}, 0), -1);
  EXPECT_EQ(choose_round_robin({}, {}, 0), -1);
}

TEST(RouterPolicy, LeastLoadUsesTheLargerOfOwnAndReportedLoad) {
  std::vector<WorkerSnapshot> ws = {worker("a", 3), worker("b", 1), worker("c", 2)};
  EXPECT_EQ(choose_least_load(ws, {}), 1);
  ws[1].running = 4;  // b is busy with requests from elsewhere
  EXPECT_EQ(choose_least_load(ws, {}), 2);
  EXPECT_EQ(choose_least_load(ws, {2}), 0);
  ws[0].available = false;
  EXPECT_EQ(choose_least_load(ws, {2}), 1);
}

TEST(RouterPolicy, PredictionGrowsWithLoad) {
  WorkerSnapshot w = worker("a", 0, 1.0);
  w.profile = profile(1000, 100, 800, 8);
  RequestTraits r;
  r.prompt_tokens = 100;
  r.max_tokens = 100;
  const Prediction idle = predict(w, r);
  EXPECT_NEAR(idle.ttft_ms, 100.0 + 10.0, 1e-9);  // 100 tokens at 1000 tok/s, then one step
  // One sequence at 100 tok/s, and the 100 ms prefill of the request that will replace it,
  // spread over its 100 steps.
  EXPECT_NEAR(idle.tpot_ms, 10.0 + 1.0, 1e-9);
  w.in_flight = 7;  // ours makes a full batch of 8 at 800 tok/s: 10 ms steps, 8 prefills to absorb
  EXPECT_NEAR(predict(w, r).tpot_ms, 10.0 + 8.0, 1e-9);
  w.in_flight = 8;  // ours waits for a slot
  const Prediction queued = predict(w, r);
  EXPECT_GT(queued.ttft_ms, 200.0);
  // Cost: the price over the busy time it takes, 0.1 s of prefill and 1 s of decoding.
  w.in_flight = 0;
  EXPECT_NEAR(predict(w, r).cost, 1.0 / 3600 * 1.1, 1e-12);
  EXPECT_NEAR(predict(w, r).cost_per_mtok, 1.0 / 3600 * 1.1 / 100 * 1e6, 1e-9);
}

TEST(RouterPolicy, ACachedPrefixMakesAWorkerFasterAndCheaper) {
  WorkerSnapshot w = worker("a", 0, 1.0);
  w.profile = profile(1000, 100, 800, 8);
  RequestTraits r;
  r.prompt_tokens = 1000;
  r.max_tokens = 100;
  const Prediction cold = predict(w, r);
  r.cached_tokens["a"] = 900;
  r.cached_tokens["b"] = 1000;  // another worker's cache is no help to this one
  const Prediction warm = predict(w, r);
  EXPECT_NEAR(cold.ttft_ms - warm.ttft_ms, 900.0, 1e-9);
  EXPECT_NEAR((cold.cost - warm.cost) * 3600, 0.9, 1e-12);
  r.cached_tokens["a"] = 5000;  // more than the prompt (estimates): one token is still computed
  EXPECT_NEAR(predict(w, r).ttft_ms, 1.0 + 10.0, 1e-9);
}

TEST(RouterPolicy, CostSloPicksTheCheapestMeetingTheSlo) {
  WorkerSnapshot fast = worker("fast", 0, 10.0);
  fast.profile = profile(10000, 1000, 8000, 16);
  WorkerSnapshot cheap = worker("cheap", 0, 0.1);
  cheap.profile = profile(1000, 50, 200, 4);
  std::vector<WorkerSnapshot> ws = {fast, cheap};
  RequestTraits r;
  r.prompt_tokens = 100;
  Slo slo{.ttft_ms = 1000, .tpot_ms = 100};
  EXPECT_EQ(choose_cost_slo(ws, {}, r, slo), 1);  // cheap: 100 ms TTFT, 20 ms TPOT, far cheaper per token
  slo.tpot_ms = 10;                                // cheap is too slow per token now
  EXPECT_EQ(choose_cost_slo(ws, {}, r, slo), 0);
  slo.tpot_ms = 100;
  ws[1].in_flight = 4;                             // cheap is full: the request would queue
  EXPECT_EQ(choose_cost_slo(ws, {}, r, slo), 0);
  EXPECT_EQ(choose_cost_slo(ws, {0}, r, slo), 1);  // nothing meets the SLO: the fastest left
}

TEST(RouterPolicy, CostSloCountsThePrefixCacheInCostAndSlo) {
  WorkerSnapshot a = worker("a", 0, 1.0), b = worker("b", 0, 1.2);
  a.profile = b.profile = profile(1000, 100, 400, 8);
  std::vector<WorkerSnapshot> ws = {a, b};
  RequestTraits r;
  r.prompt_tokens = 2000;
  r.max_tokens = 100;
  // a is cheaper per hour, but b holds the long prompt: 2 s of prefill saved is worth more.
  r.cached_tokens["b"] = 1900;
  EXPECT_EQ(choose_cost_slo(ws, {}, r, Slo{.ttft_ms = 5000, .tpot_ms = 100}), 1);
  // A short shared part saves less than b's higher price costs.
  r.cached_tokens["b"] = 100;
  EXPECT_EQ(choose_cost_slo(ws, {}, r, Slo{.ttft_ms = 5000, .tpot_ms = 100}), 0);
  // A TTFT only the holder can meet.
  r.cached_tokens["b"] = 1900;
  EXPECT_EQ(choose_cost_slo(ws, {}, r, Slo{.ttft_ms = 500, .tpot_ms = 100}), 1);
  r.cached_tokens.clear();
  r.cached_tokens["a"] = 1900;
  EXPECT_EQ(choose_cost_slo(ws, {}, r, Slo{.ttft_ms = 500, .tpot_ms = 100}), 0);
}

TEST(RouterPolicy, CostSloPrefersThePrefixHolderAmongWorkersWithoutProfile) {
  std::vector<WorkerSnapshot> ws = {worker("a", 0), worker("b", 3)};
  RequestTraits r;
  r.cached_tokens["b"] = 64;
  EXPECT_EQ(choose_cost_slo(ws, {}, r, Slo{}), 1);
  EXPECT_EQ(choose_cost_slo(ws, {1}, r, Slo{}), 0);
}

TEST(RouterPolicy, CostSloOverloadedPicksTheWorkerThatMissesTheSloByTheLeast) {
  // a: a full batch within the TPOT target, but the request would queue behind it for long.
  WorkerSnapshot a = worker("a", 12, 1.0);
  a.max_seqs = 4;
  a.profile = profile(1000, 100, 400, 4);  // 4 sequences: 10 ms per token
  // b: one more sequence there and its streams run a little over the TPOT target.
  WorkerSnapshot b = worker("b", 1, 1.0);
  b.profile = profile(2000, 20, 30, 8);  // 2 sequences at ~21 tok/s: ~95 ms per token
  RequestTraits r;
  r.prompt_tokens = 100;
  r.max_tokens = 100;
  const Slo slo{.ttft_ms = 1000, .tpot_ms = 80};
  const Prediction pa = predict(a, r), pb = predict(b, r);
  ASSERT_GT(pa.ttft_ms, 2 * slo.ttft_ms);  // a: more than twice the TTFT target
  ASSERT_GT(pb.tpot_ms, slo.tpot_ms);      // b: over the TPOT target...
  ASSERT_LT(pb.tpot_ms, 1.3 * slo.tpot_ms);  // ...by less than a third
  EXPECT_EQ(choose_cost_slo({a, b}, {}, r, slo), 1);
  EXPECT_EQ(choose_cost_slo({a, b}, {1}, r, slo), 0);  // nothing else: late is better than nothing
}

TEST(RouterPolicy, CostSloFallsBackToLeastLoadForWorkersWithoutProfile) {
  std::vector<WorkerSnapshot> ws = {worker("a", 5), worker("b", 1), worker("c", 3)};
  EXPECT_EQ(choose_cost_slo(ws, {}, RequestTraits{}, Slo{}), 1);
  WorkerSnapshot p = worker("d", 0, 1.0);
  p.profile = profile(1000, 100, 400, 8);
  ws.push_back(p);
  EXPECT_EQ(choose_cost_slo(ws, {}, RequestTraits{}, Slo{}), 3);  // a profiled worker meeting the SLO wins
  EXPECT_EQ(choose_cost_slo({}, {}, RequestTraits{}, Slo{}), -1);
}
