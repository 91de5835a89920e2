// The router over fake workers (httplib servers in this process): retries before the first
// byte, an error event for a stream cut mid-way, OpenAI errors for no worker and a bad key.
#include <gtest/gtest.h>
#include <httplib.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "router/router_server.h"

using namespace anychip::router;
using namespace std::chrono_literals;

namespace {

// A worker whose completion route the test defines; /health is always ok.
class FakeWorker {
 public:
  explicit FakeWorker(httplib::Server::Handler completion) {
    srv_.Get("/health", [](const httplib::Request&, httplib::Response& res) { res.set_content("{}", "application/json"); });
    srv_.Post("/v1/completions", std::move(completion));
    port_ = srv_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { srv_.listen_after_bind(); });
    while (!srv_.is_running()) std::this_thread::sleep_for(1ms);
  }
  ~FakeWorker() {
    srv_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server srv_;
  int port_ = 0;
  std::thread thread_;
};

class Router {
 public:
  Router(const std::vector<std::string>& workers, Policy policy, std::string key = "") {
    RouterOptions o;
    o.port = 0;
    o.policy = policy;
    o.api_key = std::move(key);
    o.health_interval = 50ms;
    srv_ = std::make_unique<RouterServer>(o);
    for (const auto& w : workers) srv_->fleet().add_static(w);
    port_ = srv_->bind();
    srv_->start_health_checks();
    thread_ = std::thread([this] { srv_->listen(); });
    srv_->wait_running(5s);
  }
  ~Router() {
    srv_->stop();
    thread_.join();
  }
  RouterServer& server() { return *srv_; }
  httplib::Client client() const { return httplib::Client("127.0.0.1", port_); }
  std::string metrics() const { return client().Get("/metrics")->body; }

 private:
  std::unique_ptr<RouterServer> srv_;
  int port_ = 0;
  std::thread thread_;
};

const char* kBody = R"({"prompt":"hi","max_tokens":2})";
const char* kStreamBody = R"({"prompt":"hi","max_tokens":2,"stream":true})";

}  // namespace

TEST(RouterHttp, RetriesAFailingWorkerInvisibly) {
  FakeWorker broken([](const httplib::Request&, httplib::Response& res) {
    res.status = 500;
    res.set_content(R"({"error":{"message":"boom"}})", "application/json");
  });
  FakeWorker good([](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"object":"text_completion"})", "application/json");
  });
  Router router({broken.url(), good.url(), "http://127.0.0.1:1"}, Policy::round_robin);  // :1 refuses
  for (int i = 0; i < 6; ++i) {
    auto res = router.client().Post("/v1/completions", kBody, "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, R"({"object":"text_completion"})");
  }
  EXPECT_NE(router.metrics().find("anychip_router_retries_total "), std::string::npos);
  EXPECT_EQ(router.metrics().find("anychip_router_retries_total 0\n"), std::string::npos);
}

TEST(RouterHttp, PassesRequestErrorsThrough) {
  FakeWorker w([](const httplib::Request&, httplib::Response& res) {
    res.status = 400;
    res.set_content(R"({"error":{"message":"bad","type":"invalid_request_error","param":null,"code":null}})", "application/json");
  });
  Router router({w.url()}, Policy::least_load);
  auto res = router.client().Post("/v1/completions", kStreamBody, "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("\"bad\""), std::string::npos);
}

TEST(RouterHttp, StreamCutMidwayEndsWithAnErrorEvent) {
  FakeWorker w([](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("text/event-stream", [](size_t, httplib::DataSink& sink) {
      const std::string ev = "data: {\"choices\":[{\"text\":\"a\"}]}\n\n";
      sink.write(ev.data(), ev.size());
      return false;  // the worker dies: the connection closes without the end of the body
    });
  });
  Router router({w.url()}, Policy::cost_slo);
  httplib::Client cli = router.client();
  cli.set_read_timeout(10);
  auto res = cli.Post("/v1/completions", kStreamBody, "application/json");
  // The whole exchange ends (no hang); the body has the token, then the error, and no [DONE].
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("\"text\":\"a\""), std::string::npos);
  EXPECT_NE(res->body.find("data: {\"error\":"), std::string::npos);
  EXPECT_NE(res->body.find("worker_failed"), std::string::npos);
  EXPECT_EQ(res->body.find("[DONE]"), std::string::npos);
  EXPECT_NE(router.metrics().find("anychip_router_broken_streams_total 1"), std::string::npos);
}

TEST(RouterHttp, NoHealthyWorkerIs503) {
  Router router({"http://127.0.0.1:1"}, Policy::round_robin);
  auto health = router.client().Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 503);
  auto res = router.client().Post("/v1/completions", kBody, "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  const auto j = nlohmann::json::parse(res->body);
  EXPECT_EQ(j["error"]["code"], "no_healthy_worker");
  EXPECT_EQ(j["error"]["type"], "service_unavailable_error");
}

TEST(RouterHttp, ApiKeyIsRequiredWhenSet) {
  FakeWorker w([](const httplib::Request& req, httplib::Response& res) {
    // The client's key is forwarded, so workers sharing it accept the request.
    res.set_content(req.get_header_value("Authorization"), "text/plain");
  });
  Router router({w.url()}, Policy::round_robin, "sekrit");
  auto denied = router.client().Post("/v1/completions", kBody, "application/json");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 401);
  auto ok = router.client().Post("/v1/completions", httplib::Headers{{"Authorization", "Bearer sekrit"}}, kBody,
                                 "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, "Bearer sekrit");
}

TEST(RouterHttp, WorkersJoinAndHeartbeat) {
  Router router({}, Policy::cost_slo);
  auto reg = router.client().Post("/v1/fleet/register", R"({"url":"http://127.0.0.1:9","models":["m"],"price_per_hour":1})",
                                  "application/json");
  ASSERT_TRUE(reg);
  EXPECT_EQ(reg->status, 200);
  EXPECT_EQ(router.client().Get("/health")->status, 200);
  EXPECT_NE(router.client().Get("/v1/models")->body.find("\"m\""), std::string::npos);
  auto beat = router.client().Post("/v1/fleet/heartbeat", R"({"url":"http://127.0.0.1:9","running":2})", "application/json");
  EXPECT_EQ(beat->status, 200);
  auto unknown = router.client().Post("/v1/fleet/heartbeat", R"({"url":"http://127.0.0.1:10"})", "application/json");
  EXPECT_EQ(unknown->status, 404);
  auto bad = router.client().Post("/v1/fleet/register", R"({"url":"nope"})", "application/json");
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(nlohmann::json::parse(bad->body)["error"]["param"], "url");
}

TEST(RouterHttp, DrainRefusesNewRequestsAndLetsOpenStreamsFinish) {
  FakeWorker w([](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("text/event-stream", [](size_t, httplib::DataSink& sink) {
      for (int i = 0; i < 5; ++i) {
        const std::string ev = "data: {\"choices\":[{\"text\":\"a\"}]}\n\n";
        sink.write(ev.data(), ev.size());
        std::this_thread::sleep_for(50ms);
      }
      const std::string done = "data: [DONE]\n\n";
      sink.write(done.data(), done.size());
      sink.done();
      return true;
    });
  });
  Router router({w.url()}, Policy::round_robin);
  std::string streamed;
  std::thread open_stream([&] {
    auto res = router.client().Post("/v1/completions", kStreamBody, "application/json");
    if (res) streamed = res->body;
  });
  std::this_thread::sleep_for(100ms);  // the stream is under way
  router.server().begin_drain();
  EXPECT_EQ(router.client().Post("/v1/completions", kBody, "application/json")->status, 503);
  EXPECT_EQ(router.client().Get("/health")->status, 503);
  EXPECT_TRUE(router.server().wait_idle(std::chrono::steady_clock::now() + 5s));
  open_stream.join();
  EXPECT_NE(streamed.find("[DONE]"), std::string::npos);
}
