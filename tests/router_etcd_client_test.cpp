// The etcd gateway client against a fake gateway in this process: answers decoded, every kind of
// failure an EtcdError naming the call (never a crash or a hang), and the watch stream's events,
// cancellation and stop.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "router/base64.h"
#include "router/etcd_client.h"
#include "router/etcd_keys.h"
#include "router/etcd_watch.h"

using namespace anychip::router;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

class FakeGateway {
 public:
  FakeGateway() {
    port_ = srv_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { srv_.listen_after_bind(); });
    while (!srv_.is_running()) std::this_thread::sleep_for(1ms);
  }
  ~FakeGateway() {
    srv_.stop();
    thread_.join();
  }
  httplib::Server& server() { return srv_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server srv_;
  int port_ = 0;
  std::thread thread_;
};

void answer(httplib::Server& s, const std::string& path, int status, const std::string& body) {
  s.Post(path, [status, body](const httplib::Request&, httplib::Response& res) {
    res.status = status;
    res.set_content(body, "application/json");
  });
}

std::string b64(const std::string& s) { return base64_encode(s); }

}  // namespace

TEST(RouterEtcd, Base64RoundTripsAndRejectsGarbage) {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "/anychip/workers/http://h:1", std::string("\0\xff", 2)}) {
    EXPECT_EQ(base64_decode(base64_encode(s)), s);
  }
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_FALSE(base64_decode("Zm9"));
  EXPECT_FALSE(base64_decode("Zm9v!A=="));
  EXPECT_FALSE(base64_decode("===="));
}

TEST(RouterEtcd, KeysAndEndpointsAreChecked) {
  EXPECT_EQ(prefix_range_end("/a/"), "/a0");
  EXPECT_EQ(prefix_range_end(std::string("a\xff", 2)), "b");
  EXPECT_EQ(normalize_etcd_prefix("/anychip"), "/anychip/");
  EXPECT_EQ(normalize_etcd_prefix("/anychip//"), "/anychip/");
  EXPECT_THROW(normalize_etcd_prefix("/"), anychip::Error);
  EXPECT_EQ(worker_key("/p/", "http://h:1"), "/p/workers/http://h:1");
  EXPECT_EQ(worker_of_key("/p/", "/p/workers/http://h:1"), "http://h:1");
  EXPECT_FALSE(worker_of_key("/p/", "/p/other/x"));
  EXPECT_FALSE(worker_of_key("/p/", "/p/workers/"));
  EXPECT_EQ(normalize_etcd_endpoint("http://127.0.0.1:2379/"), "http://127.0.0.1:2379");
  EXPECT_THROW(normalize_etcd_endpoint("127.0.0.1:2379"), anychip::Error);
  EXPECT_THROW(normalize_etcd_endpoint("http://h:1/v3"), anychip::Error);
  EXPECT_THROW(EtcdClient("https://h:1"), anychip::Error);
}

TEST(RouterEtcd, DecodesTheGatewaysAnswers) {
  FakeGateway g;
  answer(g.server(), "/v3/lease/grant", 200, R"({"header":{"revision":"5"},"ID":"7587","TTL":"3"})");
  answer(g.server(), "/v3/lease/keepalive", 200, R"({"result":{"header":{},"ID":"7587"}})");  // no TTL: gone
  answer(g.server(), "/v3/kv/put", 200, R"({"header":{"revision":"6"}})");
  answer(g.server(), "/v3/kv/range", 200,
         json{{"header", {{"revision", "9"}}}, {"kvs", {{{"key", b64("/p/workers/x")}, {"value", b64("{}")}}}}}.dump());
  EtcdClient c(g.url());
  EXPECT_EQ(c.grant_lease(3), 7587);
  EXPECT_EQ(c.keep_alive(7587), 0);
  EXPECT_NO_THROW(c.put("/p/workers/x", "{}", 7587));
  const EtcdListing l = c.list_prefix("/p/workers/");
  EXPECT_EQ(l.revision, 9);
  ASSERT_EQ(l.kvs.size(), 1u);
  EXPECT_EQ(l.kvs[0].key, "/p/workers/x");
  EXPECT_EQ(l.kvs[0].value, "{}");
}

TEST(RouterEtcd, EveryFailureIsAnEtcdErrorNamingTheCall) {
  FakeGateway g;
  answer(g.server(), "/v3/lease/grant", 400, R"({"error":"x","message":"etcdserver: bad TTL","code":3})");
  answer(g.server(), "/v3/lease/keepalive", 200, R"({"result":{"TTL":"three"}})");
  answer(g.server(), "/v3/kv/put", 200, "not json");
  answer(g.server(), "/v3/kv/range", 200, R"({"kvs":[{"key":"***","value":"e30="}]})");
  EtcdClient c(g.url());
  const auto message = [](auto&& call) {
    try {
      call();
    } catch (const EtcdError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([&] { c.grant_lease(3); }).find("/v3/lease/grant: HTTP 400: etcdserver: bad TTL"), std::string::npos);
  EXPECT_NE(message([&] { c.keep_alive(1); }).find("TTL"), std::string::npos);
  EXPECT_NE(message([&] { c.put("k", "v"); }).find("/v3/kv/put"), std::string::npos);
  EXPECT_NE(message([&] { c.list_prefix("/p/"); }).find("malformed"), std::string::npos);

  const int dead_port = [] {
    httplib::Server s;
    return s.bind_to_any_port("127.0.0.1");  // bound, then closed with s: nothing listens there
  }();
  EtcdClient gone("http://127.0.0.1:" + std::to_string(dead_port), 300ms);
  EXPECT_NE(message([&] { gone.grant_lease(3); }).find("no answer"), std::string::npos);
}

TEST(RouterEtcd, AWatchDeliversPutsAndDeletesThenReportsACancel) {
  FakeGateway g;
  g.server().Post("/v3/watch", [](const httplib::Request& req, httplib::Response& res) {
    const json create = json::parse(req.body)["create_request"];
    EXPECT_EQ(base64_decode(create["key"].get<std::string>()), "/p/workers/");
    EXPECT_EQ(create["start_revision"], "12");
    const std::string body =
        R"({"result":{"header":{"revision":"11"},"created":true}})" "\n" +
        json{{"result", {{"events", {{{"kv", {{"key", b64("/p/workers/a")}, {"value", b64("v1")}}}}}}}}}.dump() + "\n" +
        json{{"result", {{"events", {{{"type", "DELETE"}, {"kv", {{"key", b64("/p/workers/a")}}}}}}}}}.dump() + "\n" +
        R"({"result":{"canceled":true,"compact_revision":"20"}})" "\n";
    res.set_content(body, "application/json");
  });
  EtcdWatch w(g.url(), 10s);
  std::vector<std::string> seen;
  try {
    w.run("/p/workers/", 12, [&](const EtcdEvent& e) { seen.push_back((e.deleted ? "-" : "+") + e.key + "=" + e.value); });
    FAIL() << "a cancelled watch must throw";
  } catch (const EtcdError& e) {
    EXPECT_NE(std::string(e.what()).find("compacted to revision 20"), std::string::npos) << e.what();
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"+/p/workers/a=v1", "-/p/workers/a="}));
}

TEST(RouterEtcd, StopEndsAWatchThatIsWaitingForEvents) {
  FakeGateway g;
  std::atomic<bool> done{false};
  g.server().Post("/v3/watch", [&](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("application/json", [&](size_t, httplib::DataSink& sink) {
      const std::string created = R"({"result":{"created":true}})" "\n";
      sink.write(created.data(), created.size());
      while (!done.load()) std::this_thread::sleep_for(10ms);  // a quiet fleet: nothing to say
      sink.done();
      return true;
    });
  });
  EtcdWatch w(g.url(), 60s);
  std::thread stopper([&] {
    std::this_thread::sleep_for(200ms);
    w.stop();
  });
  EXPECT_TRUE(w.run("/p/", 0, [](const EtcdEvent&) {}));  // returns for stop(), not after 60 s
  stopper.join();
  done = true;
}
