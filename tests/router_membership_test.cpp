// The fleet view routers share through etcd: a worker stays while any source (configured, joined
// here, listed in etcd) holds it, and the etcd record carries a registration whole.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "router/fleet.h"
#include "router/fleet_protocol.h"
#include "server/api_error.h"

using namespace anychip::router;
using namespace std::chrono_literals;

namespace {

WorkerReport report(const std::string& url, double price = 1) {
  WorkerReport r;
  r.url = url;
  r.models = {"m"};
  r.price_per_hour = price;
  return r;
}

std::vector<std::string> ids(const Fleet& f) {
  std::vector<std::string> out;
  for (const auto& w : f.snapshot(Clock::now())) out.push_back(w.id);
  return out;
}

}  // namespace

TEST(RouterSharedFleet, AWorkerJoinedElsewhereIsUsableUntilItsKeyGoes) {
  Fleet f;
  f.merge_shared(report("http://w:1"), LiveLoad{.running = 2});
  const auto s = f.snapshot(Clock::now());
  ASSERT_EQ(s.size(), 1u);
  EXPECT_TRUE(s[0].available);
  EXPECT_EQ(s[0].running, 2);
  EXPECT_TRUE(f.stats(Clock::now())[0].sources.shared);
  EXPECT_TRUE(f.static_urls().empty());  // no health checks: its lease says it is alive
  // Not registered here: its heartbeats must register first (the router may have restarted).
  EXPECT_FALSE(f.heartbeat("http://w:1", LiveLoad{}, Clock::now()));
  f.drop_shared("http://w:1");
  EXPECT_TRUE(ids(f).empty());
}

TEST(RouterSharedFleet, LeavesOnlyWhenBothItsHeartbeatsAndItsKeyAreGone) {
  const auto t0 = Clock::now();
  for (const bool key_goes_first : {true, false}) {
    Fleet f(FleetOptions{.heartbeat_ttl = 3000ms});
    f.register_worker(report("http://w:1"), t0);
    f.merge_shared(report("http://w:1"), LiveLoad{});  // this router's own publication
    if (key_goes_first) {
      f.drop_shared("http://w:1");
      EXPECT_EQ(ids(f).size(), 1u);  // its heartbeats are still fresh here
      EXPECT_EQ(f.expire(t0 + 4000ms), std::vector<std::string>{"http://w:1"});
    } else {
      EXPECT_TRUE(f.expire(t0 + 4000ms).empty());  // another router may hear from it
      EXPECT_EQ(ids(f).size(), 1u);
      f.drop_shared("http://w:1");
    }
    EXPECT_TRUE(ids(f).empty()) << key_goes_first;
  }
}

TEST(RouterSharedFleet, OwnHeartbeatsWinOverTheSharedCopy) {
  const auto t0 = Clock::now();
  Fleet f;
  f.register_worker(report("http://w:1", 2), t0);
  ASSERT_TRUE(f.heartbeat("http://w:1", LiveLoad{.running = 5}, t0));
  f.merge_shared(report("http://w:1", 9), LiveLoad{.running = 1});  // an older record
  EXPECT_EQ(f.snapshot(t0)[0].running, 5);
  EXPECT_EQ(f.snapshot(t0)[0].price_per_hour, 2);
}

TEST(RouterSharedFleet, AListingReplacesTheSharedSet) {
  Fleet f;
  f.add_static("http://static:1");
  f.merge_shared(report("http://a:1"), LiveLoad{});
  f.merge_shared(report("http://b:1"), LiveLoad{});
  f.replace_shared({{report("http://b:1"), LiveLoad{}}, {report("http://c:1"), LiveLoad{}}});
  EXPECT_EQ(ids(f), (std::vector<std::string>{"http://b:1", "http://c:1", "http://static:1"}));
  f.replace_shared({});
  EXPECT_EQ(ids(f), std::vector<std::string>{"http://static:1"});  // configured workers stay
}

TEST(RouterSharedFleet, ARecordRoundTrips) {
  WorkerReport r = report("http://w:7", 0.25);
  r.device = "cpu:0 (EPYC)";
  r.max_seqs = 8;
  r.kv_blocks_total = 512;
  r.profile = parse_profile(nlohmann::json::parse(
      R"([{"batch":1,"prefill_tok_s":300,"decode_tok_s":40},{"batch":8,"prefill_tok_s":350,"decode_tok_s":200}])"));
  const auto [back, load] = parse_worker_record(worker_record(r, LiveLoad{.running = 3, .waiting = 4, .kv_blocks_used = 9}));
  EXPECT_EQ(back.url, r.url);
  EXPECT_EQ(back.models, r.models);
  EXPECT_EQ(back.device, r.device);
  EXPECT_EQ(back.price_per_hour, 0.25);
  EXPECT_EQ(back.max_seqs, 8);
  EXPECT_EQ(back.kv_blocks_total, 512);
  EXPECT_TRUE(back.profile.has);
  EXPECT_EQ(back.profile.max_batch, 8);
  EXPECT_EQ(back.profile.decode_tok_s_1, 40);
  EXPECT_EQ(back.profile.decode_tok_s_max, 200);
  EXPECT_EQ(back.profile.prefill_tok_s, 350);
  EXPECT_EQ(load.running, 3);
  EXPECT_EQ(load.waiting, 4);
  EXPECT_EQ(load.kv_blocks_used, 9);
  EXPECT_FALSE(parse_worker_record(worker_record(report("http://w:8"), LiveLoad{})).first.profile.has);
  EXPECT_THROW(parse_worker_record("garbage"), anychip::server::ApiError);
  EXPECT_THROW(parse_worker_record(R"({"url":"http://w:1","running":-1})"), anychip::server::ApiError);
}
