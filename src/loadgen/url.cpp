#include "loadgen/url.h"

#include <charconv>

#include "util/error.h"

namespace anychip::loadgen {
namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

ServerUrl resolve_url(const std::string& url, Endpoint endpoint) {
  const auto bad = [&](const std::string& why) { return Error("bad --url '" + url + "': " + why); };
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) throw bad("expected http://HOST[:PORT]");
  const std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") throw bad("scheme must be http or https");
  const size_t host_begin = scheme_end + 3;
  const size_t path_begin = url.find('/', host_begin);
  const std::string authority = url.substr(host_begin, path_begin - host_begin);
  if (authority.empty()) throw bad("no host");
  if (authority.find_first_of("@?# ") != std::string::npos) throw bad("user info, queries and spaces are not supported");
  // IPv6 literals keep their colons inside brackets; the port is what follows the last ':'.
  const size_t port_colon = authority.rfind(':');
  if (port_colon != std::string::npos && authority.find(']', port_colon) == std::string::npos) {
    const std::string port = authority.substr(port_colon + 1);
    int value = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || p != port.data() + port.size() || value < 1 || value > 65535)
      throw bad("port '" + port + "' is not 1..65535");
    if (port_colon == 0) throw bad("no host");
  }

  ServerUrl out;
  out.origin = url.substr(0, path_begin);
  std::string path = path_begin == std::string::npos ? "" : url.substr(path_begin);
  while (!path.empty() && path.back() == '/') path.pop_back();
  const std::string tail = endpoint == Endpoint::chat ? "/chat/completions" : "/completions";
  const bool names_chat = ends_with(path, "/chat/completions");
  std::string base;  // the API root that /chat/completions, /completions and /models hang off
  if (names_chat || ends_with(path, "/completions")) {
    if (names_chat != (endpoint == Endpoint::chat))
      throw bad("the path names the other endpoint than --endpoint " +
                std::string(endpoint == Endpoint::chat ? "chat" : "completions"));
    base = path.substr(0, path.size() - tail.size());
  } else if (ends_with(path, "/v1")) {
    base = path;
  } else {
    base = path + "/v1";
  }
  out.path = base + tail;
  out.models_path = base + "/models";
  return out;
}

}  // namespace anychip::loadgen
