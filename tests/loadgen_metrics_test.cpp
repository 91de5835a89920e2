// Percentiles and run metrics against hand-computed values (vLLM benchmark_serving's rules).
#include <gtest/gtest.h>

#include "loadgen/metrics.h"
#include "loadgen/stats.h"

namespace anychip::loadgen {
namespace {

TEST(LoadgenStats, PercentileInterpolatesBetweenRanksLikeNumpy) {
  const std::vector<double> v = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  // rank = p/100 * (n-1): p50 -> 4.5 -> between 5 and 6; p90 -> 8.1; p99 -> 8.91.
  EXPECT_DOUBLE_EQ(percentile(v, 50), 5.5);
  EXPECT_DOUBLE_EQ(percentile(v, 90), 9.1);
  EXPECT_NEAR(percentile(v, 99), 9.91, 1e-12);
  EXPECT_DOUBLE_EQ(percentile(v, 0), 1);
  EXPECT_DOUBLE_EQ(percentile(v, 100), 10);
  EXPECT_DOUBLE_EQ(percentile({42}, 99), 42);
  EXPECT_DOUBLE_EQ(percentile({10, 20}, 25), 12.5);
}

TEST(LoadgenStats, SummarizeSortsAndEmptyGivesNothing) {
  const auto s = summarize({30, 10, 20, 40});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->count, 4u);
  EXPECT_DOUBLE_EQ(s->mean, 25);
  EXPECT_DOUBLE_EQ(s->p50, 25);                 // rank 1.5
  EXPECT_DOUBLE_EQ(s->p90, 37);                 // rank 2.7: 30 + 0.7 * 10
  EXPECT_NEAR(s->p99, 39.7, 1e-12);             // rank 2.97
  EXPECT_FALSE(summarize({}));
}

RequestOutcome done(double ttft, double e2e, int out_tokens, std::vector<double> itl, int prompt = 10) {
  RequestOutcome o;
  o.status = Status::completed;
  o.ttft = ttft;
  o.e2e = e2e;
  o.output_tokens = out_tokens;
  o.prompt_tokens = prompt;
  o.itl = std::move(itl);
  return o;
}

TEST(LoadgenMetrics, HandComputedRun) {
  std::vector<RequestOutcome> outs;
  // TPOT = (e2e - ttft) / (tokens - 1): (1.0 - 0.1) / 9 = 100 ms; (0.5 - 0.2) / 3 = 100 ms.
  outs.push_back(done(0.1, 1.0, 10, {0.1, 0.1, 0.1}));
  outs.push_back(done(0.2, 0.5, 4, {0.05, 0.25}));
  outs.push_back(done(0.3, 0.3, 1, {}));  // one token: no TPOT sample
  RequestOutcome failed;
  failed.error = "HTTP 500: overloaded";
  outs.push_back(failed);
  outs.push_back(failed);
  RequestOutcome cut;
  cut.status = Status::disconnected;
  outs.push_back(cut);

  const Metrics m = compute_metrics(outs, 2.0, {});
  EXPECT_EQ(m.completed, 3u);
  EXPECT_EQ(m.failed, 2u);
  EXPECT_EQ(m.disconnected, 1u);
  EXPECT_EQ(m.failure_reasons.at("HTTP 500: overloaded"), 2u);
  EXPECT_EQ(m.total_input_tokens, 30);
  EXPECT_EQ(m.total_output_tokens, 15);
  EXPECT_DOUBLE_EQ(m.request_throughput, 1.5);
  EXPECT_DOUBLE_EQ(m.output_tok_s, 7.5);
  EXPECT_DOUBLE_EQ(m.total_tok_s, 22.5);
  ASSERT_TRUE(m.ttft_ms && m.tpot_ms && m.itl_ms && m.e2e_ms);
  EXPECT_NEAR(m.ttft_ms->mean, 200, 1e-9);
  EXPECT_NEAR(m.ttft_ms->p50, 200, 1e-9);
  EXPECT_EQ(m.tpot_ms->count, 2u);
  EXPECT_NEAR(m.tpot_ms->mean, 100, 1e-9);
  EXPECT_EQ(m.itl_ms->count, 5u);  // pooled over requests
  EXPECT_NEAR(m.itl_ms->mean, 120, 1e-9);
  EXPECT_NEAR(m.itl_ms->p50, 100, 1e-9);
  EXPECT_NEAR(m.e2e_ms->mean, 600, 1e-9);
  EXPECT_FALSE(m.goodput_req_s);  // no SLO given
  EXPECT_FALSE(m.slo_attainment);
}

TEST(LoadgenMetrics, GoodputCountsRequestsMeetingEverySlo) {
  std::vector<RequestOutcome> outs;
  outs.push_back(done(0.1, 1.0, 10, {}));   // ttft 100, tpot 100
  outs.push_back(done(0.3, 1.2, 10, {}));   // ttft 300 (misses ttft), tpot 100
  outs.push_back(done(0.1, 2.8, 10, {}));   // tpot 300 (misses tpot)
  outs.push_back(done(0.15, 0.15, 1, {}));  // one token: TPOT counts as 0
  RequestOutcome failed;
  failed.error = "cannot connect";
  outs.push_back(failed);

  Slo slo;
  slo.ttft_ms = 200;
  slo.tpot_ms = 150;
  const Metrics m = compute_metrics(outs, 4.0, slo);
  EXPECT_EQ(m.good, 2u);
  ASSERT_TRUE(m.goodput_req_s);
  EXPECT_DOUBLE_EQ(*m.goodput_req_s, 0.5);
  ASSERT_TRUE(m.slo_attainment);
  EXPECT_DOUBLE_EQ(*m.slo_attainment, 2.0 / 5.0);  // failures count against attainment

  Slo exact;
  exact.ttft_ms = 100;  // an SLO is met at equality, as in vLLM (slo >= value)
  EXPECT_EQ(compute_metrics({done(0.1, 0.1, 1, {})}, 1.0, exact).good, 1u);
}

TEST(LoadgenMetrics, NoSamplesGiveNoSummaries) {
  RequestOutcome failed;
  failed.error = "x";
  const Metrics m = compute_metrics({failed}, 0.0, {});
  EXPECT_FALSE(m.ttft_ms);
  EXPECT_FALSE(m.itl_ms);
  EXPECT_EQ(m.request_throughput, 0);
}

}  // namespace
}  // namespace anychip::loadgen
