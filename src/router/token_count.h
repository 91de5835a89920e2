#pragma once
// Tokens a worker generated, read from the answers the router forwards (for the cost per token
// on /metrics and the dashboard): the usage an answer reports when it has one (every
// non-streamed answer; streams whose client asked for stream_options.include_usage), else one
// token per streamed chunk with content, as servers stream them. Malformed JSON counts nothing.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace anychip::router {

class StreamTokenCounter {
 public:
  // Whole SSE events only (the router forwards nothing else).
  void feed(std::string_view events);
  uint64_t tokens() const { return usage_.value_or(content_chunks_); }

 private:
  void data(std::string_view json);

  uint64_t content_chunks_ = 0;
  std::optional<uint64_t> usage_;
};

// usage.completion_tokens of a whole JSON answer; 0 when absent or malformed.
uint64_t completion_tokens_in(const std::string& body);

}  // namespace anychip::router
