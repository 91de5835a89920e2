#pragma once
// The server address given by --url, split the way the HTTP client needs it.
#include <string>

namespace anychip::loadgen {

struct ServerUrl {
  std::string origin;  // "http://host:port", what httplib::Client takes
  std::string path;    // the request path, e.g. "/v1/chat/completions"
  std::string models_path;  // "/v1/models" beside it, to ask which model is served
};

enum class Endpoint { chat, completions };

// `url` is the server's root ("http://localhost:8080"), a prefix behind a proxy
// ("http://gw/llm" -> /llm/v1/...), a "/v1" base ("http://host/v1" -> /v1/...), or the full
// endpoint URL (kept as given). Throws anychip::Error for a URL that is not http(s)://host[:port].
ServerUrl resolve_url(const std::string& url, Endpoint endpoint);

}  // namespace anychip::loadgen
