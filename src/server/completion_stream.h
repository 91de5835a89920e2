#pragma once
// Turns one request's engine outputs into its HTTP response body: SSE chunks when streaming, one
// JSON object otherwise. It runs on the HTTP thread, pulling from the request's OutputChannel,
// and knows nothing of httplib: the sink it writes to is three callbacks, so tests can drive it.
// A write that fails or a client that is gone ends it and cancels the request in the engine.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "server/metrics.h"
#include "server/openai_format.h"
#include "server/output_channel.h"

namespace anychip::server {

struct StreamSink {
  std::function<bool(const std::string&)> write;  // false: the client is gone
  std::function<void()> done;                     // end of the body
  std::function<bool()> alive;                    // false: the client closed the connection
};

class CompletionStream {
 public:
  struct Config {
    ResponseMeta meta;
    bool stream = false;
    bool include_usage = false;
    std::chrono::steady_clock::time_point arrival;  // for time-to-first-token and latency
  };

  // cancel: asks the engine to end the request. metrics may be null (tests).
  CompletionStream(Config config, std::shared_ptr<OutputChannel> channel, std::function<void()> cancel,
                   ServerMetrics* metrics);

  // One round: waits up to `wait` for outputs and writes what they give. Returns false when the
  // response cannot go on (client gone); true otherwise, including after the last write.
  bool pump(const StreamSink& sink, std::chrono::milliseconds wait);
  // The response is over (written or abandoned); an unfinished request is cancelled.
  void release();

  bool finished() const { return finished_; }
  const Usage& usage() const { return usage_; }

 private:
  bool write_output(const StreamSink& sink, const TimedOutput& timed);
  bool finish(const StreamSink& sink, const engine::RequestOutput& last);
  void observe(const TimedOutput& timed);
  void abandon();

  Config config_;
  std::shared_ptr<OutputChannel> channel_;
  std::function<void()> cancel_;
  ServerMetrics* metrics_;
  bool role_sent_ = false;
  bool finished_ = false;
  bool cancelled_ = false;
  std::string text_;  // non-streamed: everything so far
  Usage usage_;
  std::optional<std::chrono::steady_clock::time_point> last_token_at_;
};

}  // namespace anychip::server
