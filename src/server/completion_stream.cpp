#include "server/completion_stream.h"

#include "server/api_error.h"
#include "server/request_log.h"
#include "server/sse.h"

namespace anychip::server {

CompletionStream::CompletionStream(Config config, std::shared_ptr<OutputChannel> channel, std::function<void()> cancel,
                                   ServerMetrics* metrics)
    : config_(std::move(config)), channel_(std::move(channel)), cancel_(std::move(cancel)), metrics_(metrics) {}

void CompletionStream::abandon() {
  if (!finished_ && !cancelled_) {
    cancelled_ = true;
    cancel_();  // frees the sequence within one engine step
  }
}

void CompletionStream::release() { abandon(); }

void CompletionStream::observe(const TimedOutput& timed) {
  if (!metrics_) return;
  const auto& o = timed.output;
  if (!o.tokens.empty()) {
    if (!last_token_at_) {
      metrics_->observe_time_to_first_token(std::chrono::duration<double>(timed.at - config_.arrival).count());
    } else {
      // Tokens that arrive together share the gap since the previous ones.
      const double gap = std::chrono::duration<double>(timed.at - *last_token_at_).count() /
                         static_cast<double>(o.tokens.size());
      for (size_t i = 0; i < o.tokens.size(); ++i) metrics_->observe_inter_token_latency(gap);
    }
    last_token_at_ = timed.at;
  }
  if (o.finished) metrics_->observe_request_latency(std::chrono::duration<double>(timed.at - config_.arrival).count());
}

bool CompletionStream::pump(const StreamSink& sink, std::chrono::milliseconds wait) {
  if (finished_) return true;
  const std::vector<TimedOutput> outputs = channel_->wait_pop_all(wait);
  if (outputs.empty()) {
    // Nothing to write yet (queued, or in a long prefill): notice a client that has gone away so
    // its sequence does not keep running for nobody.
    if (!sink.alive()) {
      abandon();
      return false;
    }
    return true;
  }
  for (const TimedOutput& timed : outputs) {
    if (!write_output(sink, timed)) {
      abandon();
      return false;
    }
    if (finished_) break;
  }
  return true;
}

bool CompletionStream::write_output(const StreamSink& sink, const TimedOutput& timed) {
  const engine::RequestOutput& o = timed.output;
  observe(timed);
  usage_.prompt_tokens = o.prompt_tokens;
  usage_.completion_tokens = o.completion_tokens;
  if (config_.stream && o.error.empty()) {
    if (config_.meta.chat && !role_sent_) {
      // OpenAI's first chunk carries the role with empty content.
      if (!sink.write(sse_event(completion_chunk(config_.meta, "assistant", "", std::nullopt, config_.include_usage)))) {
        return false;
      }
      role_sent_ = true;
    }
    if (!o.text.empty() &&
        !sink.write(sse_event(completion_chunk(config_.meta, std::nullopt, o.text, std::nullopt, config_.include_usage)))) {
      return false;
    }
  } else {
    text_ += o.text;
  }
  if (o.finished) return finish(sink, o);
  return true;
}

bool CompletionStream::finish(const StreamSink& sink, const engine::RequestOutput& last) {
  finished_ = true;
  RequestRecord& record = current_request_record();
  record.prompt_tokens = usage_.prompt_tokens;
  record.completion_tokens = usage_.completion_tokens;
  std::string body;
  if (!last.error.empty()) {
    // The status line is already out, so the failure travels in the body: an error event for a
    // stream (as vLLM sends), an error object otherwise.
    const std::string err = error_body("the request failed: " + last.error, "server_error");
    body = config_.stream ? "data: " + err + "\n\n" + sse_done() : err;
  } else if (config_.stream) {
    if (config_.meta.chat && !role_sent_) {
      body += sse_event(completion_chunk(config_.meta, "assistant", "", std::nullopt, config_.include_usage));
    }
    body += sse_event(completion_chunk(config_.meta, std::nullopt,
                                       config_.meta.chat ? std::nullopt : std::optional<std::string>(""), last.finish,
                                       config_.include_usage));
    if (config_.include_usage) body += sse_event(usage_chunk(config_.meta, usage_));
    body += sse_done();
  } else {
    body = dump_json(completion_response(config_.meta, text_, last.finish, usage_));
  }
  if (!sink.write(body)) return false;
  sink.done();
  return true;
}

}  // namespace anychip::server
