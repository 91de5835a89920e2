#pragma once
// Server-sent events framing for streamed completions: each event is one `data: <json>` line and
// a blank line; the stream ends with `data: [DONE]`, as OpenAI's clients expect.
#include <nlohmann/json.hpp>
#include <string>

namespace anychip::server {

std::string sse_event(const nlohmann::ordered_json& payload);
std::string sse_done();
// A comment line: clients ignore it; writing it lets the server notice a vanished client while a
// request waits in the queue or in a long prefill.
std::string sse_comment();

// JSON text for a response body. Generated text can end mid-way through a multi-byte character
// only if the engine breaks its own contract; replace invalid UTF-8 rather than fail the request.
std::string dump_json(const nlohmann::ordered_json& j);

}  // namespace anychip::server
