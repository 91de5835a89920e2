#pragma once
// One request forwarded to a worker, read on its own thread so the router's handler can decide
// what to tell the client at each stage: the head (status, content type) and the body arrive
// through a small channel. Nothing has reached the client until the handler commits, so any
// failure up to the first body bytes can still be retried on another worker.
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace httplib {
class Client;
}

namespace anychip::router {

struct UpstreamOptions {
  int connect_timeout_s = 5;
  int read_timeout_s = 120;  // longest silence from a worker (serve pings while queued)
};

class Upstream {
 public:
  // A slow client slows the reading of its worker instead of growing the router's memory.
  static constexpr size_t kMaxBuffered = 1u << 20;

  // Starts the request at once. path: "/v1/chat/completions"; auth: the client's Authorization.
  Upstream(const std::string& worker_url, const std::string& path, const std::string& body,
           const std::string& auth, const UpstreamOptions& options);
  ~Upstream();  // cancels and joins
  Upstream(const Upstream&) = delete;
  Upstream& operator=(const Upstream&) = delete;

  struct Head {
    bool ok = false;          // false: the worker failed before any body byte (retryable)
    int status = 0;
    std::string content_type;
    std::string error;        // why, when !ok
  };
  // Waits for the status and the first body bytes (or the end of an empty body).
  Head wait_head();

  // The next piece of body; false at the end. failed() then says whether it ended cleanly.
  bool next(std::string& out);
  bool failed() const;
  std::string error() const;

  // Stops the transfer (the client went away).
  void cancel();

 private:
  void run(std::string url, std::string path, std::string body, std::string auth, UpstreamOptions options);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unique_ptr<httplib::Client> client_;
  int status_ = 0;
  std::string content_type_;
  std::deque<std::string> chunks_;
  size_t buffered_ = 0;  // bytes in chunks_; the worker is read no further ahead than kMaxBuffered
  bool got_body_ = false;
  bool done_ = false;
  bool failed_ = false;
  bool cancelled_ = false;
  std::string error_;
  std::thread thread_;
};

}  // namespace anychip::router
