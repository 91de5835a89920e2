// What the router counts for the cost per token: workers' busy time at their price, and the
// tokens in the answers it forwards.
#include <gtest/gtest.h>

#include "router/fleet.h"
#include "router/token_count.h"

using namespace anychip::router;
using namespace std::chrono_literals;

TEST(RouterAccounting, ABusyWorkerCostsItsPriceOverlappingRequestsOnce) {
  Fleet f;
  f.add_static("http://w:1", 36.0);  // $0.01 a second
  const auto t0 = Clock::now();
  f.begin_request("http://w:1", t0);
  f.begin_request("http://w:1", t0 + 1s);  // overlaps: still one busy worker
  f.end_request("http://w:1", true, t0 + 2s);
  f.end_request("http://w:1", true, t0 + 3s);
  f.begin_request("http://w:1", t0 + 10s);  // idle from 3 s to 10 s: free
  auto s = f.stats(t0 + 12s)[0];
  EXPECT_NEAR(s.busy_seconds, 5.0, 1e-9);  // 3 s, then 2 s of the open request
  EXPECT_NEAR(s.cost, 0.05, 1e-12);
  f.end_request("http://w:1", true, t0 + 12s);
  f.add_generated_tokens("http://w:1", 40);
  f.add_generated_tokens("http://gone:1", 2);  // a worker dropped while its answer streamed
  const FleetTotals t = f.totals(t0 + 20s);
  EXPECT_EQ(t.generated_tokens, 42u);
  EXPECT_NEAR(t.cost, 0.05, 1e-12);
}

TEST(RouterAccounting, ADroppedWorkerKeepsItsCostInTheTotals) {
  Fleet f(FleetOptions{.heartbeat_ttl = 1000ms});
  const auto t0 = Clock::now();
  WorkerReport r;
  r.url = "http://w:2";
  r.price_per_hour = 3600;  // $1 a second
  f.register_worker(r, t0);
  f.begin_request("http://w:2", t0);
  f.add_generated_tokens("http://w:2", 7);
  ASSERT_EQ(f.expire(t0 + 2s).size(), 1u);  // dropped with the request still open: billed to then
  const FleetTotals t = f.totals(t0 + 5s);
  EXPECT_NEAR(t.cost, 2.0, 1e-9);
  EXPECT_EQ(t.generated_tokens, 7u);
}

TEST(RouterAccounting, StreamsCountUsageElseContentChunks) {
  StreamTokenCounter chat;
  chat.feed("data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n");
  chat.feed("data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\n\n");
  chat.feed(": keep-alive\n\ndata: not json\n\ndata: [DONE]\n\n");
  EXPECT_EQ(chat.tokens(), 2u);

  StreamTokenCounter text;
  text.feed("data: {\"choices\":[{\"text\":\"a\"}]}\r\n\r\n");
  EXPECT_EQ(text.tokens(), 1u);
  // The usage chunk a client asked for is exact (one chunk may carry several tokens).
  text.feed("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":5}}\n\n");
  EXPECT_EQ(text.tokens(), 5u);

  EXPECT_EQ(completion_tokens_in(R"({"usage":{"completion_tokens":8}})"), 8u);
  EXPECT_EQ(completion_tokens_in(R"({"usage":{"completion_tokens":-1}})"), 0u);
  EXPECT_EQ(completion_tokens_in("{"), 0u);
}
