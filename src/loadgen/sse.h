#pragma once
// Incremental parser for a text/event-stream body (the WHATWG server-sent events format that
// OpenAI-compatible servers stream): bytes arrive in arbitrary pieces, split anywhere, even
// inside a line or a "\r\n"; each complete event's data is handed on once its blank line ends it.
#include <functional>
#include <string>
#include <string_view>

namespace anychip::loadgen {

class SseParser {
 public:
  // Called with each event's data (its `data:` lines joined by '\n'); returning false stops
  // parsing, and feed() then returns false too.
  using OnEvent = std::function<bool(std::string_view data)>;

  explicit SseParser(OnEvent on_event) : on_event_(std::move(on_event)) {}

  bool feed(std::string_view bytes);
  // End of the body: an event whose final blank line never came is still delivered, since some
  // servers close the stream right after the last `data:` line.
  bool finish();

 private:
  bool line(std::string_view l);
  bool dispatch();

  OnEvent on_event_;
  std::string partial_;  // bytes of a line not yet ended
  std::string data_;     // data of the event being built
  bool has_data_ = false;
  bool after_cr_ = false;  // the last byte was '\r', so a leading '\n' ends nothing new
  bool stopped_ = false;
};

}  // namespace anychip::loadgen
