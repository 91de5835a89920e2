#pragma once
// One log line per HTTP request (method, path, status, tokens, duration). httplib calls its
// logger on the thread that served the request, right after the response was written, so the
// handler's facts travel to it in a thread-local record that each request starts afresh.
#include <chrono>
#include <optional>
#include <string>

namespace anychip::server {

struct RequestRecord {
  std::optional<std::chrono::steady_clock::time_point> start;
  std::optional<int> prompt_tokens;
  std::optional<int> completion_tokens;
};

// The record of the request this thread is serving.
RequestRecord& current_request_record();
// Starts a new record (at routing time).
void begin_request_record();

// "POST /v1/chat/completions 200 prompt=12 completion=16 0.532s"
std::string format_request_line(const std::string& method, const std::string& path, int status,
                                const RequestRecord& record, std::chrono::steady_clock::time_point now);

}  // namespace anychip::server
