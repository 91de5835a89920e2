#pragma once
// The HTTP front of `anychip serve`: OpenAI-compatible routes over cpp-httplib, API-key checks,
// OpenAI-style error bodies for every failure, a log line per request, and a lifecycle that
// starts listening before the model is loaded (/health says "loading") and drains on shutdown.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "server/metrics.h"
#include "server/request_tracker.h"
#include "server/served_model.h"

namespace httplib {
class Server;
}

namespace anychip::server {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                      // 0: any free port
  std::string api_key;                  // empty: no authentication
  size_t max_body_bytes = 8u << 20;     // larger request bodies get 413
  int threads = 64;                     // connections served at once
  int read_timeout_s = 30;
  int write_timeout_s = 30;
};

class HttpServer {
 public:
  explicit HttpServer(HttpOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the socket and returns the port (the chosen one for port 0). Throws anychip::Error.
  int bind();
  // Serves until stop(); blocks. Returns false if the server could not run.
  bool listen();
  // Waits until listen() is serving (stop() before that would be lost). False on timeout.
  bool wait_running(std::chrono::milliseconds timeout);
  // The model is loaded: completions are served from now on. `model` must outlive stop().
  void set_ready(const ServedModel* model);
  // New requests get 503 from now on; requests in flight go on.
  void begin_drain();
  // True when every in-flight request ended before the deadline.
  bool wait_idle(std::chrono::steady_clock::time_point deadline) { return tracker_.wait_idle(deadline); }
  // Cancels every request in flight (their streams end with what they have).
  void cancel_all();
  // Stops listening and returns once every connection's thread has ended.
  void stop();

  ServerMetrics& metrics() { return metrics_; }

 private:
  void install_routes();

  HttpOptions options_;
  std::unique_ptr<httplib::Server> http_;
  std::atomic<const ServedModel*> model_{nullptr};
  std::atomic<bool> draining_{false};
  ServerMetrics metrics_;
  RequestTracker tracker_;
};

}  // namespace anychip::server
