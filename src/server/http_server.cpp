#include "server/http_server.h"

#include <httplib.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "server/api_error.h"
#include "server/completion_endpoint.h"
#include "server/listen_socket.h"
#include "server/request_log.h"
#include "server/sse.h"
#include "util/error.h"

namespace anychip::server {
namespace {

void send_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status();
  if (e.status() == 429) res.set_header("Retry-After", "1");
  res.set_content(error_body(e), "application/json");
}

// Compares without an early exit, so response timing does not reveal how much of a key matched.
bool same_secret(const std::string& given, const std::string& key) {
  unsigned diff = given.size() == key.size() ? 0u : 1u;
  const size_t n = std::max(given.size(), key.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char a = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    const unsigned char b = i < key.size() ? static_cast<unsigned char>(key[i]) : 0;
    diff |= static_cast<unsigned>(a ^ b);
  }
  return diff == 0;
}

// The methods a known path answers ("" for an unknown path).
std::string allowed_methods(const std::string& path) {
  if (path == "/v1/chat/completions" || path == "/v1/completions") return "POST";
  if (path == "/v1/models" || path.rfind("/v1/models/", 0) == 0 || path == "/health" || path == "/metrics") {
    return "GET, HEAD";
  }
  return "";
}

const char* default_message(int status) {
  switch (status) {
    case 400: return "The request could not be parsed.";
    case 404: return "Unknown path.";
    case 405: return "Method not allowed for this path.";
    case 413: return "The request body is too large.";
    case 414: return "The request URI is too long.";
    default: return "The request failed.";
  }
}

}  // namespace

HttpServer::HttpServer(HttpOptions options) : options_(std::move(options)), http_(std::make_unique<httplib::Server>()) {
  install_routes();
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::bind() { return bind_server(*http_, options_.host, options_.port); }

bool HttpServer::listen() { return http_->listen_after_bind(); }

bool HttpServer::wait_running(std::chrono::milliseconds timeout) { return wait_until_running(*http_, timeout); }

void HttpServer::set_ready(const ServedModel* model) { model_.store(model); }

void HttpServer::begin_drain() { draining_.store(true); }

void HttpServer::cancel_all() {
  const ServedModel* model = model_.load();
  if (!model) return;
  for (uint64_t id : tracker_.engine_ids()) model->engine().cancel(id);
}

void HttpServer::stop() {
  if (http_ && http_->is_running()) http_->stop();
}

void HttpServer::install_routes() {
  httplib::Server& s = *http_;
  // Enough threads that every running and queued request can hold a connection (streams occupy
  // theirs for the whole generation), plus room for health checks and scrapes.
  const size_t threads = static_cast<size_t>(std::max(options_.threads, 4));
  s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.set_payload_max_length(options_.max_body_bytes);
  s.set_read_timeout(options_.read_timeout_s, 0);
  s.set_write_timeout(options_.write_timeout_s, 0);
  // Streamed tokens are small writes; Nagle's algorithm would hold each one back for an ACK.
  s.set_tcp_nodelay(true);
  s.set_keep_alive_max_count(1000);
  // Longer than clients keep idle sockets (Node's keep-alive agents: 4 s), so a client that reads
  // its response as it arrives never reuses a socket the server is closing at that moment. (The
  // server counts from its last write, the client from its last read: a client that leaves a
  // finished response in its buffers for seconds can still meet the close, as in any server.)
  s.set_keep_alive_timeout(5);

  s.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    begin_request_record();
    // httplib reads a POST/PUT/PATCH/DELETE without Content-Length or chunked encoding until the
    // client closes (a response's rule, not a request's), so `curl -X PUT` would hang until the
    // read timeout. Such a request has no body (RFC 9112 6.3): answer it here, before any read.
    const bool body_method = req.method == "POST" || req.method == "PUT" || req.method == "PATCH" ||
                             req.method == "DELETE" || req.method == "PRI";
    if (!body_method || req.has_header("Content-Length") || req.has_header("Transfer-Encoding")) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    const std::string allow = allowed_methods(req.path);
    if (allow.empty()) {
      send_error(res, ApiError(404, default_message(404), "not_found_error", std::nullopt, "unknown_url"));
    } else if (allow != req.method) {
      res.set_header("Allow", allow);
      send_error(res, ApiError(405, "Method " + req.method + " is not allowed here; use " + allow + "."));
    } else {
      send_error(res, ApiError(400, "The request has no body; send a JSON object with a Content-Length."));
    }
    return httplib::Server::HandlerResponse::Handled;
  });

  // Statuses httplib decides itself (unknown path, body too large, unparsable request) get an
  // OpenAI-style body too; responses that already have one are left alone.
  s.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    const std::optional<std::string> code =
        res.status == 404 ? std::optional<std::string>("unknown_url") : std::nullopt;
    res.set_content(error_body(default_message(res.status), error_type_for_status(res.status), std::nullopt, code),
                    "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));

  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    try {
      std::rethrow_exception(ep);
    } catch (const ApiError& e) {
      send_error(res, e);
    } catch (const std::bad_alloc&) {
      send_error(res, ApiError(500, "out of memory", "server_error"));
    } catch (const std::exception& e) {
      send_error(res, ApiError(500, std::string("internal error: ") + e.what(), "server_error"));
    } catch (...) {
      send_error(res, ApiError(500, "internal error", "server_error"));
    }
  });

  // Counted before the response is written (httplib runs this just before writing, the logger
  // just after): a client that reads /metrics right after an answer finds that answer counted.
  s.set_post_routing_handler([this](const httplib::Request&, httplib::Response& res) { metrics_.count_request(res.status); });
  s.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    const std::string line =
        format_request_line(req.method, req.path, res.status, current_request_record(), std::chrono::steady_clock::now());
    std::fprintf(stderr, "%s\n", line.c_str());  // one call: lines from many threads do not interleave
  });

  // Model routes: authenticated, and refused while loading or draining.
  auto model_route = [this](auto body) {
    return [this, body](const httplib::Request& req, httplib::Response& res) {
      if (!options_.api_key.empty()) {
        const std::string auth = req.get_header_value("Authorization");
        const std::string prefix = "Bearer ";
        if (auth.rfind(prefix, 0) != 0 || !same_secret(auth.substr(prefix.size()), options_.api_key)) {
          throw ApiError(401, "Invalid or missing API key. Send 'Authorization: Bearer <key>'.", "authentication_error",
                         std::nullopt, "invalid_api_key");
        }
      }
      // Counted before the drain check, so shutdown cannot slip between the check and submit.
      auto ticket = tracker_.begin();
      if (draining_.load()) throw ApiError(503, "The server is shutting down.", "service_unavailable_error");
      const ServedModel* model = model_.load();
      if (!model) throw ApiError(503, "The model is still loading; retry shortly.", "service_unavailable_error");
      if (req.body.size() > options_.max_body_bytes) throw ApiError(413, default_message(413));  // chunked uploads
      body(req, res, *model, std::move(ticket));
    };
  };

  s.Post("/v1/chat/completions", model_route([this](const httplib::Request& req, httplib::Response& res,
                                                    const ServedModel& m, std::shared_ptr<RequestTracker::Ticket> t) {
           handle_completion(req, res, /*chat=*/true, m, metrics_, std::move(t));
         }));
  s.Post("/v1/completions", model_route([this](const httplib::Request& req, httplib::Response& res,
                                               const ServedModel& m, std::shared_ptr<RequestTracker::Ticket> t) {
           handle_completion(req, res, /*chat=*/false, m, metrics_, std::move(t));
         }));

  auto model_object = [](const ServedModel& m) {
    nlohmann::ordered_json j;
    j["id"] = m.id();
    j["object"] = "model";
    j["created"] = 0;
    j["owned_by"] = "anychip";
    j["max_model_len"] = m.ctx_size();
    return j;
  };
  s.Get("/v1/models", model_route([model_object](const httplib::Request&, httplib::Response& res, const ServedModel& m,
                                                 std::shared_ptr<RequestTracker::Ticket>) {
          nlohmann::ordered_json j;
          j["object"] = "list";
          j["data"] = nlohmann::ordered_json::array({model_object(m)});
          res.set_content(dump_json(j), "application/json");
        }));
  s.Get(R"(/v1/models/(.+))", model_route([model_object](const httplib::Request& req, httplib::Response& res,
                                                         const ServedModel& m, std::shared_ptr<RequestTracker::Ticket>) {
          const std::string name = req.matches[1];
          if (!m.answers_to(name)) {
            throw ApiError(404, "The model '" + name + "' does not exist.", "invalid_request_error", "model",
                           "model_not_found");
          }
          res.set_content(dump_json(model_object(m)), "application/json");
        }));

  // Open routes: load balancers and scrapers need no key.
  s.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    if (draining_.load()) {
      res.status = 503;
      res.set_content(R"({"status":"draining"})", "application/json");
    } else if (!model_.load()) {
      res.status = 503;
      res.set_content(R"({"status":"loading"})", "application/json");
    } else {
      res.set_content(R"({"status":"ok"})", "application/json");
    }
  });
  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    const ServedModel* model = model_.load();
    std::optional<engine::EngineStats> stats;
    if (model) stats = model->engine().stats();
    res.set_content(metrics_.render(stats), "text/plain; version=0.0.4; charset=utf-8");
  });

  // A known path with the wrong method is 405 (httplib alone would say 404).
  for (const char* path : {"/v1/chat/completions", "/v1/completions", "/v1/models", "/health", "/metrics"}) {
    const std::string allow = allowed_methods(path);
    auto not_allowed = [allow](const httplib::Request& req, httplib::Response& res) {
      res.set_header("Allow", allow);
      throw ApiError(405, "Method " + req.method + " is not allowed here; use " + allow + ".");
    };
    if (allow == "POST") s.Get(path, not_allowed);
    else s.Post(path, not_allowed);
    s.Put(path, not_allowed);
    s.Delete(path, not_allowed);
    s.Patch(path, not_allowed);
    s.Options(path, not_allowed);
  }
}

}  // namespace anychip::server
