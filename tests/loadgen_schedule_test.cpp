// Arrival schedules and the request plan: Poisson statistics, determinism, disconnect spread.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "loadgen/client.h"
#include "loadgen/plan.h"
#include "loadgen/prompt.h"
#include "loadgen/schedule.h"

namespace anychip::loadgen {
namespace {

TEST(LoadgenSchedule, PoissonInterArrivalsHaveMeanAndSpreadOfTheRate) {
  const double rate = 20;
  const size_t n = 20000;
  const auto t = poisson_arrivals(n, rate, 7);
  ASSERT_EQ(t.size(), n);
  EXPECT_EQ(t[0], 0);
  double sum = 0, sum2 = 0;
  for (size_t i = 1; i < n; ++i) {
    const double gap = t[i] - t[i - 1];
    ASSERT_GE(gap, 0);
    sum += gap;
    sum2 += gap * gap;
  }
  const double mean = sum / (n - 1);
  const double stddev = std::sqrt(sum2 / (n - 1) - mean * mean);
  // Exponential gaps: mean = stddev = 1/rate = 50 ms. The standard error of the mean over 20k
  // gaps is 0.35 ms, so 3% (1.5 ms) is a comfortable bound.
  EXPECT_NEAR(mean, 1 / rate, 0.03 / rate);
  EXPECT_NEAR(stddev, 1 / rate, 0.05 / rate);
}

TEST(LoadgenSchedule, SameSeedSameSchedule) {
  EXPECT_EQ(poisson_arrivals(100, 5, 42), poisson_arrivals(100, 5, 42));
  EXPECT_NE(poisson_arrivals(100, 5, 42), poisson_arrivals(100, 5, 43));
  EXPECT_EQ(immediate_arrivals(3), (std::vector<double>{0, 0, 0}));
}

TEST(LoadgenPlan, DisconnectsAreExactlyNSpreadEvenly) {
  PlanOptions o;
  o.requests = 10;
  o.disconnect = 3;
  const auto plan = make_plan(o);
  std::vector<size_t> cut;
  for (size_t i = 0; i < plan.size(); ++i)
    if (plan[i].spec.disconnect) cut.push_back(i);
  EXPECT_EQ(cut, (std::vector<size_t>{3, 6, 9}));
  o.disconnect = 10;
  for (const auto& r : make_plan(o)) EXPECT_TRUE(r.spec.disconnect);
}

TEST(LoadgenPlan, SyntheticPromptsHaveTheWordCountAndDiffer) {
  PlanOptions o;
  o.requests = 4;
  o.prompt_tokens = 50;
  o.gen_tokens = 9;
  o.rate = 10;
  const auto plan = make_plan(o);
  std::set<std::string> prompts;
  for (const auto& r : plan) {
    EXPECT_EQ(std::count(r.spec.prompt.begin(), r.spec.prompt.end(), ' '), 49);
    EXPECT_EQ(r.spec.gen_tokens, 9);
    prompts.insert(r.spec.prompt);
  }
  EXPECT_EQ(prompts.size(), 4u);
  EXPECT_EQ(plan[0].arrival, 0);
  EXPECT_GT(plan[3].arrival, plan[1].arrival);
  EXPECT_EQ(synthetic_prompt(5, 1), synthetic_prompt(5, 1));
}

TEST(LoadgenPlan, TraceGivesArrivalsAndLengthsAndLimitsRows) {
  PlanOptions o;
  o.trace = {{0.0, 100, 5}, {0.5, 0, 0}, {2.0, 30, 7}};
  o.requests = 2;
  const auto plan = make_plan(o);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[1].arrival, 0.5);
  EXPECT_EQ(plan[0].spec.prompt_tokens, 100);
  EXPECT_EQ(plan[0].spec.gen_tokens, 5);
  EXPECT_EQ(plan[1].spec.prompt_tokens, 1);  // a zero-length row is sent as one token
  EXPECT_EQ(plan[1].spec.gen_tokens, 1);
  o.requests = 0;
  EXPECT_EQ(make_plan(o).size(), 3u);
}

TEST(LoadgenSchedule, SharedPrefixIsTheSameSystemMessageForEveryRequest) {
  PlanOptions o;
  o.requests = 5;
  o.prompt_tokens = 8;
  o.shared_prefix_tokens = 40;
  const auto plan = make_plan(o);
  std::set<std::string> prompts;
  for (const auto& r : plan) {
    EXPECT_EQ(r.spec.shared_prefix, plan[0].spec.shared_prefix);
    prompts.insert(r.spec.prompt);
  }
  EXPECT_EQ(prompts.size(), 5u);
  EXPECT_GE(plan[0].spec.shared_prefix.size(), 40u * 2);
  EXPECT_EQ(prompts.count(plan[0].spec.shared_prefix), 0u);

  ClientOptions chat;
  chat.endpoint = Endpoint::chat;
  const auto body = request_body(chat, plan[1].spec);
  ASSERT_EQ(body["messages"].size(), 2u);
  EXPECT_EQ(body["messages"][0]["role"], "system");
  EXPECT_EQ(body["messages"][0]["content"], plan[1].spec.shared_prefix);
  EXPECT_EQ(body["messages"][1]["content"], plan[1].spec.prompt);
  ClientOptions completions;
  completions.endpoint = Endpoint::completions;
  const std::string text = request_body(completions, plan[1].spec)["prompt"];
  EXPECT_EQ(text.rfind(plan[1].spec.shared_prefix, 0), 0u);

  o.shared_prefix_tokens = 0;
  EXPECT_TRUE(make_plan(o)[0].spec.shared_prefix.empty());
}

}  // namespace
}  // namespace anychip::loadgen
