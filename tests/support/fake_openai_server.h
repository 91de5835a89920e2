#pragma once
// A small OpenAI-compatible server for the load generator's tests: it streams max_tokens content
// chunks with known delays (first after `first_delay`, then one every `gap`), preceded by a
// role-only chunk and followed by a usage chunk and [DONE], so the expected TTFT, ITL, TPOT and
// token counts are known. It counts requests, streams cut short by the client, and the peak
// number of requests it held at once.
#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

namespace anychip::testing {

struct FakeServerConfig {
  std::chrono::milliseconds first_delay{50};
  std::chrono::milliseconds gap{20};
  bool usage = true;          // send the usage chunk when the request asks for it
  int tokens_per_chunk = 1;   // usage.completion_tokens = chunks * this (tells usage from chunk counts)
  int fail_every = 0;         // every k-th request (1-based) answers 500
  std::string model = "fake-model";
};

class FakeOpenAiServer {
 public:
  explicit FakeOpenAiServer(FakeServerConfig config) : config_(std::move(config)) {
    // One thread per held request: the default pool (a few threads) would serialize streams.
    server_.new_task_queue = [] { return new httplib::ThreadPool(320); };
    server_.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(nlohmann::json{{"object", "list"}, {"data", {{{"id", config_.model}, {"object", "model"}}}}}.dump(),
                      "application/json");
    });
    const auto handler = [this](const httplib::Request& req, httplib::Response& res) { complete(req, res); };
    server_.Post("/v1/chat/completions", handler);
    server_.Post("/v1/completions", handler);
    server_.set_socket_options([this](socket_t sock) {
      const int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
      listen_fd_ = sock;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    // httplib listens with a backlog of 5, which a burst of hundreds of connects overflows (the
    // dropped ones then fail); Linux lets listen() be called again to raise it.
    ::listen(listen_fd_, 1024);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the accept loop has started would be lost, and the destructor would hang.
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeOpenAiServer() {
    server_.stop();
    thread_.join();
  }

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::atomic<int> requests{0};
  std::atomic<int> cut_short{0};  // streams whose client went away mid-reply
  std::atomic<int> peak_in_flight{0};
  // The last request body, for checking what the client sent.
  nlohmann::json last_body() {
    std::lock_guard lock(mu_);
    return last_body_;
  }

 private:
  void complete(const httplib::Request& req, httplib::Response& res) {
    const int n = ++requests;
    const nlohmann::json body = nlohmann::json::parse(req.body);
    {
      std::lock_guard lock(mu_);
      last_body_ = body;
    }
    if (config_.fail_every > 0 && n % config_.fail_every == 0) {
      res.status = 500;
      res.set_content(R"({"error":{"message":"overloaded","type":"server_error"}})", "application/json");
      return;
    }
    const bool chat = req.path == "/v1/chat/completions";
    const int chunks = body.value("max_tokens", 16);
    const bool usage = config_.usage && body.contains("stream_options");
    if (!body.value("stream", false)) {
      held([&] { std::this_thread::sleep_for(config_.first_delay); });
      std::string text;
      for (int i = 0; i < chunks; ++i) text += " w";
      nlohmann::json choice = chat ? nlohmann::json{{"index", 0}, {"message", {{"role", "assistant"}, {"content", text}}}}
                                   : nlohmann::json{{"index", 0}, {"text", text}};
      nlohmann::json out = {{"object", "chat.completion"}, {"choices", {choice}}};
      if (config_.usage) out["usage"] = {{"prompt_tokens", 7}, {"completion_tokens", chunks * config_.tokens_per_chunk}};
      res.set_content(out.dump(), "application/json");
      return;
    }
    res.set_chunked_content_provider("text/event-stream", [=, this](size_t, httplib::DataSink& sink) {
      bool ok = true;
      held([&] {
        const auto send = [&](const nlohmann::json& j) {
          const std::string event = "data: " + j.dump() + "\n\n";
          return sink.write(event.data(), event.size());
        };
        const auto delta = [&](const nlohmann::json& d, const nlohmann::json& u) {
          nlohmann::json choice = chat ? nlohmann::json{{"index", 0}, {"delta", d}}
                                       : nlohmann::json{{"index", 0}, {"text", d.value("content", "")}};
          return nlohmann::json{{"choices", {choice}}, {"usage", u}};
        };
        ok = send(delta({{"role", "assistant"}, {"content", ""}}, nullptr));
        std::this_thread::sleep_for(config_.first_delay);
        for (int i = 0; ok && i < chunks; ++i) {
          if (i > 0) std::this_thread::sleep_for(config_.gap);
          ok = send(delta({{"content", " w" + std::to_string(i)}}, nullptr));
        }
        if (ok && usage)
          ok = send({{"choices", nlohmann::json::array()},
                     {"usage", {{"prompt_tokens", 7}, {"completion_tokens", chunks * config_.tokens_per_chunk}}}});
        if (ok) {
          const std::string done = "data: [DONE]\n\n";
          ok = sink.write(done.data(), done.size());
        }
      });
      if (!ok) {
        ++cut_short;
        return false;
      }
      sink.done();
      return true;
    });
  }

  template <class F>
  void held(F&& f) {
    const int now = ++in_flight_;
    int peak = peak_in_flight.load();
    while (now > peak && !peak_in_flight.compare_exchange_weak(peak, now)) {
    }
    f();
    --in_flight_;
  }

  FakeServerConfig config_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  socket_t listen_fd_ = -1;
  std::atomic<int> in_flight_{0};
  std::mutex mu_;
  nlohmann::json last_body_;
};

}  // namespace anychip::testing
