#include "loadgen/sse.h"

namespace anychip::loadgen {

bool SseParser::feed(std::string_view bytes) {
  if (stopped_) return false;
  for (char c : bytes) {
    const bool crlf_tail = after_cr_ && c == '\n';
    after_cr_ = c == '\r';
    if (crlf_tail) continue;  // the '\n' of a "\r\n" whose '\r' already ended the line
    if (c == '\r' || c == '\n') {
      std::string l;
      l.swap(partial_);
      if (!line(l)) return false;
    } else {
      partial_.push_back(c);
    }
  }
  return true;
}

bool SseParser::finish() {
  if (stopped_) return false;
  if (!partial_.empty()) {
    std::string l;
    l.swap(partial_);
    if (!line(l)) return false;
  }
  return dispatch();
}

bool SseParser::line(std::string_view l) {
  if (l.empty()) return dispatch();
  if (l.front() == ':') return true;  // comment (keep-alive pings)
  const size_t colon = l.find(':');
  const std::string_view field = l.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view{} : l.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (field == "data") {
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  }
  // event:, id:, retry: carry nothing the OpenAI stream uses.
  return true;
}

bool SseParser::dispatch() {
  if (!has_data_) return true;
  std::string data;
  data.swap(data_);
  has_data_ = false;
  if (!on_event_(data)) {
    stopped_ = true;
    return false;
  }
  return true;
}

}  // namespace anychip::loadgen
