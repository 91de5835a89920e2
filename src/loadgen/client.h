#pragma once
// One request to an OpenAI-compatible server over HTTP(S), timed from send to the reply's end.
#include <chrono>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "loadgen/outcome.h"
#include "loadgen/url.h"

namespace anychip::loadgen {

using Clock = std::chrono::steady_clock;

struct ClientOptions {
  ServerUrl url;
  Endpoint endpoint = Endpoint::chat;
  std::string model;    // omitted from the body when empty (single-model servers ignore it)
  std::string api_key;  // sent as "Authorization: Bearer KEY" when set
  bool stream = true;
  int connect_timeout_s = 10;
  // Longest silence allowed while reading; a stalled server fails the request, never hangs it.
  int read_timeout_s = 120;
};

struct RequestSpec {
  std::string prompt;
  std::string shared_prefix;  // the same for every request (a system prompt); may be empty
  int prompt_tokens = 0;  // the nominal length, reported when the server sends no usage
  int gen_tokens = 0;
  bool disconnect = false;  // abandon the stream after the first content chunk
};

// The JSON body: max_tokens = gen_tokens with ignore_eos so every reply has the asked length,
// greedy (temperature 0), and usage requested in the stream.
nlohmann::json request_body(const ClientOptions& o, const RequestSpec& spec);

// Sends `spec` and waits for the whole reply. Never throws for server or network trouble: a
// failure is an outcome with its reason. Times are seconds since `run_start`.
RequestOutcome send_request(const ClientOptions& o, const RequestSpec& spec, Clock::time_point run_start);

// The first model id the server lists at /v1/models, or none when it lists none or has no such
// route. Throws anychip::Error when the server cannot be reached at all, so a wrong --url fails
// at once instead of after a whole schedule of refused requests.
std::optional<std::string> discover_model(const ClientOptions& o);

}  // namespace anychip::loadgen
