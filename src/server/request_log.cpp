#include "server/request_log.h"

#include <cstdio>

namespace anychip::server {

RequestRecord& current_request_record() {
  thread_local RequestRecord record;
  return record;
}

void begin_request_record() {
  current_request_record() = RequestRecord{};
  current_request_record().start = std::chrono::steady_clock::now();
}

std::string format_request_line(const std::string& method, const std::string& path, int status,
                                const RequestRecord& record, std::chrono::steady_clock::time_point now) {
  std::string line = method + " " + path + " " + std::to_string(status);
  if (record.prompt_tokens) line += " prompt=" + std::to_string(*record.prompt_tokens);
  if (record.completion_tokens) line += " completion=" + std::to_string(*record.completion_tokens);
  const double seconds = record.start ? std::chrono::duration<double>(now - *record.start).count() : 0.0;
  char buf[32];
  std::snprintf(buf, sizeof buf, " %.3fs", seconds);
  return line + buf;
}

}  // namespace anychip::server
