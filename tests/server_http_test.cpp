// The HTTP layer in-process, before any model is ready: the routes, statuses and error bodies a
// client sees while the server loads (the model-backed paths are covered by tests/openai/).
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "server/http_server.h"

namespace anychip::server {
namespace {

using json = nlohmann::json;

class LoadingServer : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpOptions o;
    o.port = 0;
    o.api_key = "sekrit";
    o.max_body_bytes = 4096;
    o.threads = 8;
    server_ = std::make_unique<HttpServer>(o);
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->listen(); });
    ASSERT_TRUE(server_->wait_running(std::chrono::seconds(10)));
  }
  void TearDown() override {
    server_->stop();
    thread_.join();
  }
  httplib::Client client() { return httplib::Client("127.0.0.1", port_); }
  static json error_of(const httplib::Result& r) {
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
    const json j = json::parse(r->body);
    EXPECT_TRUE(j["error"].contains("message") && j["error"].contains("type") && j["error"].contains("param") &&
                j["error"].contains("code"))
        << r->body;
    return j["error"];
  }

  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  int port_ = 0;
};

TEST_F(LoadingServer, HealthSaysLoading) {
  auto r = client().Get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(json::parse(r->body), json::parse(R"({"status":"loading"})"));
}

TEST_F(LoadingServer, CompletionsWaitForTheModel) {
  httplib::Headers auth{{"Authorization", "Bearer sekrit"}};
  auto r = client().Post("/v1/chat/completions", auth, R"({"messages":[{"role":"user","content":"hi"}]})",
                         "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(error_of(r)["type"], "service_unavailable_error");
}

TEST_F(LoadingServer, ApiKeyIsChecked) {
  auto r = client().Post("/v1/completions", R"({"prompt":"x"})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(error_of(r)["code"], "invalid_api_key");
  r = client().Post("/v1/completions", {{"Authorization", "Bearer wrong"}}, R"({"prompt":"x"})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  r = client().Get("/v1/models", {{"Authorization", "Bearer sekri"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
}

TEST_F(LoadingServer, UnknownPathAndWrongMethod) {
  auto r = client().Get("/v2/nothing");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(error_of(r)["type"], "not_found_error");
  r = client().Get("/v1/chat/completions");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->get_header_value("Allow"), "POST");
  error_of(r);
  r = client().Post("/health", "{}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  r = client().Delete("/v1/models");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
}

TEST_F(LoadingServer, BodyTooLarge) {
  auto r = client().Post("/v1/chat/completions", {{"Authorization", "Bearer sekrit"}}, std::string(10000, ' '),
                         "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  error_of(r);
}

TEST_F(LoadingServer, MetricsAreServed) {
  ASSERT_TRUE(client().Get("/health"));
  auto r = client().Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0), 0u);
  EXPECT_NE(r->body.find("anychip_http_requests_total{code=\"503\"} 1\n"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("anychip_kv_blocks_total 0\n"), std::string::npos);
}

TEST_F(LoadingServer, DrainingRefusesNewRequests) {
  server_->begin_drain();
  auto r = client().Get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(json::parse(r->body)["status"], "draining");
  EXPECT_TRUE(server_->wait_idle(std::chrono::steady_clock::now()));
}

}  // namespace
}  // namespace anychip::server
