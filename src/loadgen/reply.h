#pragma once
// Turns an OpenAI-compatible reply (streamed events or one JSON body) into a RequestOutcome,
// with vLLM benchmark_serving's timing rules: TTFT at the first non-empty content chunk, one
// inter-token gap per later content chunk, end-to-end at the last event before [DONE].
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "loadgen/outcome.h"
#include "loadgen/url.h"

namespace anychip::loadgen {

class Reply {
 public:
  // `sent` is when the request left, in the same clock as the times passed below.
  Reply(Endpoint endpoint, double sent) : endpoint_(endpoint), sent_(sent) {}

  // One streamed event's data, received at `t`. Returns false when the reply cannot go on
  // (an error event or malformed JSON); error() then says why.
  bool on_event(std::string_view data, double t);
  // A whole non-streamed JSON body, received at `t`.
  void on_body(std::string_view body, double t);

  int content_chunks() const { return static_cast<int>(content_chunks_); }
  const std::string& error() const { return error_; }

  // The outcome of a reply that ended at `ended`; `prompt_tokens` is the requested length, used
  // when the server sent no usage. A reply with no content chunk is a failure.
  RequestOutcome finish(int prompt_tokens, double ended) const;

 private:
  void on_choice_text(std::string_view text, double t);

  Endpoint endpoint_;
  double sent_;
  std::optional<double> first_content_, last_content_;
  double last_event_ = 0;
  std::vector<double> itl_;
  size_t content_chunks_ = 0;
  size_t body_words_ = 0;  // token estimate for a non-streamed reply without usage
  std::optional<int> usage_prompt_, usage_completion_;
  std::string error_;
};

// "HTTP 503: <the server's message>" for a non-200 reply, taking error.message from a JSON
// body when there is one.
std::string http_status_error(int status, std::string_view body);

}  // namespace anychip::loadgen
