// cost-slo learns from what it sees: observed over predicted latencies per worker, their 90th
// percentile over a recent window, applied to the predictions.
#include <gtest/gtest.h>

#include "router/latency_calibration.h"
#include "router/policy.h"

using namespace anychip::router;
using namespace std::chrono_literals;

TEST(RouterCalibration, NinetiethPercentileOfRecentRatios) {
  LatencyCalibration c(60s);
  const auto t0 = Clock::now();
  EXPECT_EQ(c.scale("w", t0).tpot, 1.0);  // never seen
  for (int i = 1; i <= 3; ++i) c.observe("w", 100, 100.0 * i, 10, 10.0 * i, t0);
  EXPECT_EQ(c.scale("w", t0).ttft, 1.0);  // too few to judge
  for (int i = 4; i <= 10; ++i) c.observe("w", 100, 100.0 * i, 10, 10.0 * i, t0);
  EXPECT_DOUBLE_EQ(c.scale("w", t0).ttft, 9.0);  // ratios 1..10: nine in ten are at most 9
  EXPECT_DOUBLE_EQ(c.scale("w", t0).tpot, 9.0);
  EXPECT_EQ(c.scale("other", t0).ttft, 1.0);
  EXPECT_EQ(c.scale("w", t0 + 61s).ttft, 1.0);  // forgotten: the worker is given a new chance
}

TEST(RouterCalibration, OneTokenAnswersTeachOnlyTtftAndNonsenseIsBounded) {
  LatencyCalibration c;
  const auto t0 = Clock::now();
  for (int i = 0; i < 8; ++i) c.observe("w", 100, 200, 10, std::nullopt, t0);
  EXPECT_DOUBLE_EQ(c.scale("w", t0).ttft, 2.0);
  EXPECT_EQ(c.scale("w", t0).tpot, 1.0);
  for (int i = 0; i < 8; ++i) c.observe("x", 1e-12, 1e9, 0, 5.0, t0);  // a ~0 prediction; no TPOT one
  EXPECT_DOUBLE_EQ(c.scale("x", t0).ttft, 50.0);
  EXPECT_EQ(c.scale("x", t0).tpot, 1.0);
}

TEST(RouterCalibration, ScalesSlowDownPredictionsAndRaiseCost) {
  WorkerSnapshot w;
  w.id = "w";
  w.available = true;
  w.price_per_hour = 3.6;
  w.profile.has = true;
  w.profile.prefill_tok_s = 1000;
  w.profile.decode_tok_s_1 = w.profile.decode_tok_s_max = 100;
  RequestTraits r;
  r.prompt_tokens = 100;
  r.max_tokens = 100;
  const Prediction base = predict(w, r);
  w.ttft_scale = 2;
  w.tpot_scale = 3;
  const Prediction slow = predict(w, r);
  EXPECT_NEAR(slow.ttft_ms, 2 * base.ttft_ms, 1e-9);
  EXPECT_NEAR(slow.tpot_ms, 3 * base.tpot_ms, 1e-9);
  EXPECT_NEAR(slow.cost, 3.6 / 3600 * (0.1 * 2 + 1.0 * 3), 1e-12);
  // A worker that keeps missing the SLO loses requests to one that meets it.
  WorkerSnapshot steady = w;
  steady.id = "steady";
  steady.ttft_scale = steady.tpot_scale = 1;
  steady.price_per_hour = 12;  // dearer than w even at w's slowed-down busy time
  EXPECT_EQ(choose_cost_slo({w, steady}, {}, r, Slo{.ttft_ms = 1000, .tpot_ms = 20}), 1);
  EXPECT_EQ(choose_cost_slo({w, steady}, {}, r, Slo{.ttft_ms = 1000, .tpot_ms = 50}), 0);  // both meet it: the cheaper
}
