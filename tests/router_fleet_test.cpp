// Fleet membership, health, circuit breaker; the fleet protocol bodies; request inspection.
#include <gtest/gtest.h>

#include "router/fleet.h"
#include "router/fleet_protocol.h"
#include "router/prefix_affinity.h"
#include "router/request_info.h"
#include "server/api_error.h"
#include "util/error.h"

using namespace anychip::router;
using namespace std::chrono_literals;

TEST(RouterFleet, StaticWorkersNeedAGoodCheckAndAreEjectedAfterFailures) {
  Fleet f(FleetOptions{.eject_after = 2});
  const auto now = Clock::now();
  f.add_static("http://a:1");
  EXPECT_FALSE(f.snapshot(now)[0].available);
  f.health_result("http://a:1", true, {"m"});
  EXPECT_TRUE(f.snapshot(now)[0].available);
  EXPECT_EQ(f.snapshot(now)[0].models, std::vector<std::string>{"m"});
  f.health_result("http://a:1", false, {});
  EXPECT_TRUE(f.snapshot(now)[0].available);  // one miss is not enough
  f.health_result("http://a:1", false, {});
  EXPECT_FALSE(f.snapshot(now)[0].available);
  EXPECT_EQ(f.healthy_count(now), 0);
  f.health_result("http://a:1", true, {});  // re-admitted
  EXPECT_EQ(f.healthy_count(now), 1);
}

TEST(RouterFleet, BreakerOpensAfterFailedRequestsAndHalfOpensLater) {
  Fleet f(FleetOptions{.breaker_after = 2, .breaker_open = 1000ms});
  const auto t0 = Clock::now();
  f.add_static("http://a:1");
  f.health_result("http://a:1", true, {});
  for (int i = 0; i < 2; ++i) {
    f.begin_request("http://a:1", t0);
    f.end_request("http://a:1", false, t0);
  }
  EXPECT_FALSE(f.snapshot(t0)[0].available);
  EXPECT_TRUE(f.stats(t0)[0].breaker_open);
  EXPECT_EQ(f.stats(t0)[0].failures, 2u);
  EXPECT_EQ(f.stats(t0)[0].in_flight, 0);
  EXPECT_TRUE(f.snapshot(t0 + 1500ms)[0].available);  // half-open
  f.begin_request("http://a:1", t0);
  f.end_request("http://a:1", true, t0 + 1500ms);
  EXPECT_FALSE(f.stats(t0 + 1500ms)[0].breaker_open);
}

TEST(RouterFleet, JoinedWorkersLiveByHeartbeat) {
  Fleet f(FleetOptions{.heartbeat_ttl = 3000ms});
  const auto t0 = Clock::now();
  EXPECT_FALSE(f.heartbeat("http://w:2", LiveLoad{}, t0));  // unknown: must register
  WorkerReport r;
  r.url = "http://w:2";
  r.price_per_hour = 1.5;
  f.register_worker(r, t0);
  EXPECT_TRUE(f.heartbeat("http://w:2", LiveLoad{.running = 3, .waiting = 1}, t0 + 2000ms));
  auto s = f.snapshot(t0 + 2000ms);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_TRUE(s[0].available);
  EXPECT_EQ(s[0].running, 3);
  EXPECT_EQ(s[0].price_per_hour, 1.5);
  EXPECT_TRUE(f.static_urls().empty());
  EXPECT_TRUE(f.expire(t0 + 4000ms).empty());
  EXPECT_EQ(f.expire(t0 + 5100ms), std::vector<std::string>{"http://w:2"});
  EXPECT_TRUE(f.snapshot(t0).empty());
}

TEST(RouterFleet, WorkerUrlsAreChecked) {
  EXPECT_EQ(normalize_worker_url("http://h:8080/"), "http://h:8080");
  EXPECT_THROW(normalize_worker_url("h:8080"), anychip::Error);
  EXPECT_THROW(normalize_worker_url("http://h:8080/v1"), anychip::Error);
  EXPECT_THROW(normalize_worker_url("http://"), anychip::Error);
}

TEST(RouterProtocol, RegistrationAndHeartbeat) {
  const WorkerReport r = parse_registration(R"({"url":"http://w:1/","models":["m"],"device":"cpu:0","price_per_hour":2,
    "max_seqs":16,"kv_blocks_total":100,"profile":[{"batch":1,"prefill_tok_s":500,"decode_tok_s":50},
    {"batch":16,"prefill_tok_s":900,"decode_tok_s":400},{"batch":8,"prefill_tok_s":800,"decode_tok_s":300}]})");
  EXPECT_EQ(r.url, "http://w:1");
  EXPECT_EQ(r.models, std::vector<std::string>{"m"});
  EXPECT_EQ(r.max_seqs, 16);
  ASSERT_TRUE(r.profile.has);
  EXPECT_EQ(r.profile.max_batch, 16);
  EXPECT_EQ(r.profile.decode_tok_s_1, 50);
  EXPECT_EQ(r.profile.decode_tok_s_max, 400);
  EXPECT_EQ(r.profile.prefill_tok_s, 900);
  EXPECT_NEAR(r.profile.decode_tok_s(8), 50 + 350.0 * 7 / 15, 1e-9);

  EXPECT_FALSE(parse_registration(R"({"url":"http://w:1"})").profile.has);
  EXPECT_THROW(parse_registration("[]"), anychip::server::ApiError);
  EXPECT_THROW(parse_registration(R"({"url":"ftp://x"})"), anychip::server::ApiError);
  EXPECT_THROW(parse_registration(R"({"url":"http://w:1","price_per_hour":-1})"), anychip::server::ApiError);
  EXPECT_THROW(parse_registration(R"({"url":"http://w:1","profile":[{"batch":0,"decode_tok_s":1}]})"),
               anychip::server::ApiError);

  LiveLoad load;
  EXPECT_EQ(parse_heartbeat(R"({"url":"http://w:1","running":2,"waiting":5,"kv_blocks_used":7})", load), "http://w:1");
  EXPECT_EQ(load.running, 2);
  EXPECT_EQ(load.waiting, 5);
  EXPECT_EQ(load.kv_blocks_used, 7);
  EXPECT_THROW(parse_heartbeat(R"({"url":"http://w:1","running":"x"})", load), anychip::server::ApiError);
}

TEST(RouterRequest, InspectsWithoutJudging) {
  const RequestInfo bad = inspect_request("not json", true);
  EXPECT_FALSE(bad.parsed);
  const RequestInfo chat =
      inspect_request(R"({"model":"m","stream":true,"max_tokens":9,"messages":[{"role":"user","content":"hi"}]})", true);
  EXPECT_TRUE(chat.parsed);
  EXPECT_TRUE(chat.stream);
  EXPECT_EQ(chat.model, "m");
  EXPECT_EQ(chat.max_tokens, 9);
  EXPECT_TRUE(chat.prefix_keys.empty());  // shorter than a block
  const std::string block(256, 'x');
  const auto a = inspect_request(R"({"prompt":")" + block + block + R"(a"})", false);
  const auto b = inspect_request(R"({"prompt":")" + block + std::string(256, 'y') + R"(b"})", false);
  ASSERT_EQ(a.prefix_keys.size(), 2u);  // whole blocks only
  ASSERT_EQ(b.prefix_keys.size(), 2u);
  EXPECT_EQ(a.prefix_keys[0], b.prefix_keys[0]);  // same first 256 characters
  EXPECT_NE(a.prefix_keys[1], b.prefix_keys[1]);
  EXPECT_FALSE(a.stream);
  const auto huge = inspect_request(R"({"prompt":")" + std::string(100000, 'z') + R"("})", false);
  EXPECT_EQ(huge.prefix_keys.size(), kMaxPrefixBlocks);
}

TEST(RouterAffinity, KnowsHowMuchOfAPromptEachWorkerServed) {
  PrefixAffinity aff;
  aff.record({1, 2, 3}, "a");  // a served a 3-block prompt
  aff.record({1, 5}, "b");     // b one sharing its first block
  EXPECT_EQ(aff.cached_blocks({1, 2, 9}), (std::map<std::string, int>{{"a", 2}, {"b", 1}}));
  EXPECT_EQ(aff.cached_blocks({1, 5}), (std::map<std::string, int>{{"a", 1}, {"b", 2}}));
  EXPECT_TRUE(aff.cached_blocks({7}).empty());
  EXPECT_TRUE(aff.cached_blocks({}).empty());
}

TEST(RouterAffinity, ForgetsTheOldestKeysAndHolders) {
  PrefixAffinity aff(2);
  aff.record({1}, "a");
  aff.record({2}, "b");
  aff.record({3}, "c");
  EXPECT_TRUE(aff.cached_blocks({1}).empty());
  EXPECT_EQ(aff.cached_blocks({3}).count("c"), 1u);
  PrefixAffinity wide;
  const std::vector<std::string> names = {"w0", "w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"};
  static_assert(PrefixAffinity::kMaxHolders == 8);
  for (const std::string& name : names) wide.record({42}, name);
  const auto held = wide.cached_blocks({42});
  EXPECT_EQ(held.size(), PrefixAffinity::kMaxHolders);
  EXPECT_EQ(held.count("w0"), 0u);  // the least recent holder made room
}
