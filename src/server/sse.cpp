#include "server/sse.h"

namespace anychip::server {

std::string dump_json(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// json::dump never emits a raw newline (strings escape it), so one event is always one line.
std::string sse_event(const nlohmann::ordered_json& payload) { return "data: " + dump_json(payload) + "\n\n"; }

std::string sse_done() { return "data: [DONE]\n\n"; }

std::string sse_comment() { return ": keep-alive\n\n"; }

}  // namespace anychip::server
