#include "loadgen/client.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "loadgen/reply.h"
#include "loadgen/sse.h"
#include "util/error.h"

namespace anychip::loadgen {
namespace {

std::string describe(httplib::Error e, const ServerUrl& url) {
  switch (e) {
    case httplib::Error::Connection: return "cannot connect to " + url.origin;
    case httplib::Error::ConnectionTimeout: return "connection to " + url.origin + " timed out";
    case httplib::Error::Read: return "read failed or timed out";
    case httplib::Error::Write: return "write failed";
    case httplib::Error::SSLConnection: return "TLS handshake with " + url.origin + " failed";
    case httplib::Error::SSLServerVerification: return "TLS certificate of " + url.origin + " not trusted";
    default: return "HTTP client error: " + httplib::to_string(e);
  }
}

// One connection per request, closed after it: no request waits for another's socket, and an
// abandoned stream really closes its connection, which is what --disconnect tests.
httplib::Client make_client(const ClientOptions& o) {
  httplib::Client cli(o.url.origin);
  cli.set_connection_timeout(o.connect_timeout_s);
  cli.set_read_timeout(o.read_timeout_s);
  cli.set_write_timeout(o.read_timeout_s);
  cli.set_keep_alive(false);
  return cli;
}

}  // namespace

nlohmann::json request_body(const ClientOptions& o, const RequestSpec& spec) {
  nlohmann::json body = {
      {"max_tokens", spec.gen_tokens},
      {"ignore_eos", true},
      {"temperature", 0},
      {"stream", o.stream},
  };
  if (o.endpoint == Endpoint::chat) {
    body["messages"] = nlohmann::json::array();
    if (!spec.shared_prefix.empty()) body["messages"].push_back({{"role", "system"}, {"content", spec.shared_prefix}});
    body["messages"].push_back({{"role", "user"}, {"content", spec.prompt}});
  } else {
    body["prompt"] = spec.shared_prefix.empty() ? spec.prompt : spec.shared_prefix + "\n" + spec.prompt;
  }
  if (!o.model.empty()) body["model"] = o.model;
  if (o.stream) body["stream_options"] = {{"include_usage", true}};
  return body;
}

std::optional<std::string> discover_model(const ClientOptions& o) {
  httplib::Client cli = make_client(o);
  httplib::Headers headers;
  if (!o.api_key.empty()) headers.emplace("Authorization", "Bearer " + o.api_key);
  const httplib::Result res = cli.Get(o.url.models_path, headers);
  if (!res) throw Error(describe(res.error(), o.url) + " (" + o.url.origin + o.url.models_path + ")");
  if (res->status != 200) return std::nullopt;
  const auto j = nlohmann::json::parse(res->body, nullptr, false);
  if (!j.is_object() || !j.contains("data") || !j["data"].is_array() || j["data"].empty()) return std::nullopt;
  const auto& first = j["data"][0];
  if (!first.is_object() || !first.contains("id") || !first["id"].is_string()) return std::nullopt;
  return first["id"].get<std::string>();
}

RequestOutcome send_request(const ClientOptions& o, const RequestSpec& spec, Clock::time_point run_start) {
  const auto now = [&] { return std::chrono::duration<double>(Clock::now() - run_start).count(); };

  httplib::Client cli = make_client(o);

  httplib::Request req;
  req.method = "POST";
  req.path = o.url.path;
  // A --model given in a non-UTF-8 locale must not throw here; replace stray bytes instead.
  req.body = request_body(o, spec).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  req.set_header("Content-Type", "application/json");
  req.set_header("Accept", o.stream ? "text/event-stream" : "application/json");
  if (!o.api_key.empty()) req.set_header("Authorization", "Bearer " + o.api_key);

  int status = 0;
  bool event_stream = false;  // a server may ignore "stream" and answer with one JSON body
  bool abandoned = false;
  std::string raw;  // a non-stream body, or an error body
  const double sent = now();
  Reply reply(o.endpoint, sent);
  SseParser sse([&](std::string_view data) {
    const double t = now();
    if (!reply.on_event(data, t)) return false;
    if (spec.disconnect && reply.content_chunks() > 0) {
      abandoned = true;
      return false;
    }
    return true;
  });

  req.response_handler = [&](const httplib::Response& r) {
    status = r.status;
    event_stream = r.get_header_value("Content-Type").rfind("text/event-stream", 0) == 0;
    return true;
  };
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    if (status == 200 && event_stream) return sse.feed({data, n});
    if (raw.size() < (1u << 26)) raw.append(data, n);  // a reply body, bounded against a runaway server
    return true;
  };

  const httplib::Result res = cli.send(req);
  const double ended = now();
  const auto ended_as = [&](Status st, std::string reason) {
    RequestOutcome out;
    out.status = st;
    out.error = std::move(reason);
    out.start = sent;
    out.end = ended;
    return out;
  };
  if (abandoned) return ended_as(Status::disconnected, "");
  if (!reply.error().empty()) return reply.finish(spec.prompt_tokens, ended);
  if (res.error() != httplib::Error::Success || status == 0) return ended_as(Status::failed, describe(res.error(), o.url));
  if (status != 200) return ended_as(Status::failed, http_status_error(status, raw));
  if (event_stream) {
    sse.finish();
  } else {
    reply.on_body(raw, ended);
  }
  return reply.finish(spec.prompt_tokens, ended);
}

}  // namespace anychip::loadgen
