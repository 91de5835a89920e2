#include "router/router_server.h"

#include <httplib.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "router/dashboard_page.h"
#include "router/etcd_fleet_watcher.h"
#include "router/etcd_publisher.h"
#include "router/fleet_history.h"
#include "router/fleet_protocol.h"
#include "router/fleet_view.h"
#include "router/health_checker.h"
#include "router/request_info.h"
#include "router/token_count.h"
#include "server/api_error.h"
#include "server/listen_socket.h"
#include "server/sse.h"
#include "util/error.h"

namespace anychip::router {
namespace {

using server::ApiError;

void send_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status();
  res.set_content(server::error_body(e), "application/json");
}

// The methods a known path answers ("" for an unknown path).
std::string allowed_methods(const std::string& path) {
  if (path == "/v1/chat/completions" || path == "/v1/completions" || path == "/v1/fleet/register" ||
      path == "/v1/fleet/heartbeat") {
    return "POST";
  }
  if (path == "/v1/models" || path.rfind("/v1/models/", 0) == 0 || path == "/health" || path == "/metrics" ||
      path == "/" || path == "/fleet" || path == "/fleet/history") {
    return "GET, HEAD";
  }
  return "";
}

bool is_event_stream(const std::string& content_type) { return content_type.rfind("text/event-stream", 0) == 0; }

// Where the last complete SSE event ends in `buf` (0: none yet). Forwarding whole events only
// means an error event after a broken stream never lands inside a half-written one.
size_t complete_events_end(const std::string& buf) {
  const size_t lf = buf.rfind("\n\n");
  const size_t crlf = buf.rfind("\r\n\r\n");
  size_t end = 0;
  if (lf != std::string::npos) end = lf + 2;
  if (crlf != std::string::npos) end = std::max(end, crlf + 4);
  return end;
}

// True once `buf` holds a complete event with data: the worker has produced its first token
// (serve sends only keep-alive comments before that, while the request waits or prefills).
bool has_data_event(const std::string& buf) {
  const size_t end = complete_events_end(buf);
  for (size_t pos = 0; pos < end;) {
    if (buf.compare(pos, 5, "data:") == 0) return true;
    const size_t nl = buf.find('\n', pos);
    if (nl == std::string::npos || nl >= end) break;
    pos = nl + 1;
  }
  return false;
}

std::string stream_error_event(const std::string& why) {
  nlohmann::ordered_json err;
  err["message"] = "The worker serving this stream failed: " + why;
  err["type"] = "server_error";
  err["param"] = nullptr;
  err["code"] = "worker_failed";
  nlohmann::ordered_json body;
  body["error"] = std::move(err);
  return server::sse_event(body);
}

// Counts a completion as active for as long as this object lives: a stream's content provider
// holds it until the last byte is written.
class ActiveGuard {
 public:
  explicit ActiveGuard(std::atomic<int>& n) : n_(n) { n_.fetch_add(1); }
  ~ActiveGuard() { n_.fetch_sub(1); }
  ActiveGuard(const ActiveGuard&) = delete;
  ActiveGuard& operator=(const ActiveGuard&) = delete;

 private:
  std::atomic<int>& n_;
};

}  // namespace

bool RouterServer::wait_idle(std::chrono::steady_clock::time_point deadline) const {
  while (active_.load() > 0) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

RouterServer::RouterServer(RouterOptions options)
    : options_(std::move(options)),
      fleet_(options_.fleet),
      history_(std::make_unique<FleetHistory>(fleet_, std::chrono::seconds(1), 300)),
      http_(std::make_unique<httplib::Server>()) {
  install_routes();
}

RouterServer::~RouterServer() {
  stop();
  health_.reset();
  etcd_watcher_.reset();
  publisher_.reset();
  history_.reset();
}

void RouterServer::start_health_checks() { health_ = std::make_unique<HealthChecker>(fleet_, options_.health_interval, options_.api_key); }

void RouterServer::start_etcd_membership() {
  if (!options_.etcd) return;
  publisher_ = std::make_unique<EtcdPublisher>(*options_.etcd);
  etcd_watcher_ = std::make_unique<EtcdFleetWatcher>(*options_.etcd, fleet_, [this](const std::string& url) {
    publisher_->key_deleted(url);
  });
}

int RouterServer::bind() { return server::bind_server(*http_, options_.host, options_.port); }

bool RouterServer::listen() { return http_->listen_after_bind(); }

bool RouterServer::wait_running(std::chrono::milliseconds timeout) { return server::wait_until_running(*http_, timeout); }

void RouterServer::stop() {
  if (http_ && http_->is_running()) http_->stop();
}

void RouterServer::check_key(const httplib::Request& req) const {
  if (options_.api_key.empty()) return;
  const std::string auth = req.get_header_value("Authorization");
  const std::string expected = "Bearer " + options_.api_key;
  // Constant-time compare: timing must not reveal how much of the key matched.
  unsigned diff = auth.size() == expected.size() ? 0u : 1u;
  for (size_t i = 0; i < std::min(auth.size(), expected.size()); ++i) {
    diff |= static_cast<unsigned>(static_cast<unsigned char>(auth[i]) ^ static_cast<unsigned char>(expected[i]));
  }
  if (diff != 0) {
    throw ApiError(401, "Invalid or missing API key. Send 'Authorization: Bearer <key>'.", "authentication_error",
                   std::nullopt, "invalid_api_key");
  }
}

int RouterServer::choose(const std::vector<WorkerSnapshot>& ws, const std::vector<int>& exclude,
                         const RequestTraits& traits) {
  switch (options_.policy) {
    case Policy::round_robin: return choose_round_robin(ws, exclude, rr_counter_.fetch_add(1));
    case Policy::least_load: return choose_least_load(ws, exclude);
    case Policy::cost_slo: return choose_cost_slo(ws, exclude, traits, options_.slo);
  }
  return -1;
}

void RouterServer::handle_completion(const httplib::Request& req, httplib::Response& res, bool chat) {
  check_key(req);
  // Counted before the drain check, so shutdown cannot slip between the check and the forward.
  auto active = std::make_shared<ActiveGuard>(active_);
  if (draining_.load()) throw ApiError(503, "The router is shutting down.", "service_unavailable_error");
  const RequestInfo info = inspect_request(req.body, chat);
  const std::string path = chat ? "/v1/chat/completions" : "/v1/completions";
  RequestTraits traits;
  traits.prompt_tokens = info.prompt_chars / 4 + 1;
  traits.max_tokens = info.max_tokens;
  for (const auto& [worker, blocks] : affinity_.cached_blocks(info.prefix_keys)) {
    traits.cached_tokens[worker] = static_cast<int>(blocks * kPrefixBlockChars / 4);  // the prompt estimate's scale
  }
  const std::string auth = req.get_header_value("Authorization");

  std::set<std::string> tried;
  bool have_answer = false;  // a worker's 429/5xx answer, passed on when no other worker does better
  int last_status = 0;
  std::string last_body, last_type;
  std::string last_failure;
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    auto ws = fleet_.snapshot(Clock::now());
    for (WorkerSnapshot& w : ws) {
      const LatencyScale scale = calibration_.scale(w.id, Clock::now());
      w.ttft_scale = scale.ttft;
      w.tpot_scale = scale.tpot;
    }
    std::vector<int> exclude;
    bool any_serves_model = false;
    for (size_t i = 0; i < ws.size(); ++i) {
      if (info.model && std::find(ws[i].models.begin(), ws[i].models.end(), *info.model) != ws[i].models.end() &&
          ws[i].available && !tried.count(ws[i].id)) {
        any_serves_model = true;
      }
    }
    for (size_t i = 0; i < ws.size(); ++i) {
      const bool serves = !info.model || std::find(ws[i].models.begin(), ws[i].models.end(), *info.model) != ws[i].models.end();
      // Route by model when some worker lists it; otherwise any worker answers (and reports an
      // unknown model in its own words).
      if (tried.count(ws[i].id) || (any_serves_model && !serves)) exclude.push_back(static_cast<int>(i));
    }
    const int idx = choose(ws, exclude, traits);
    if (idx < 0) break;
    const std::string worker = ws[static_cast<size_t>(idx)].id;
    tried.insert(worker);
    if (attempt > 0) metrics_.count_retry();
    // What the profile alone predicts, to learn how far off the worker really is.
    std::optional<Prediction> predicted;
    if (ws[static_cast<size_t>(idx)].profile.has) {
      WorkerSnapshot as_profiled = ws[static_cast<size_t>(idx)];
      as_profiled.ttft_scale = as_profiled.tpot_scale = 1;
      predicted = predict(as_profiled, traits);
    }

    const Clock::time_point sent = Clock::now();
    fleet_.begin_request(worker, sent);
    auto up = std::make_shared<Upstream>(worker, path, req.body, auth, options_.upstream);
    const Upstream::Head head = up->wait_head();
    if (!head.ok) {
      fleet_.end_request(worker, false, Clock::now());
      last_failure = worker + ": " + head.error;
      std::fprintf(stderr, "anychip route: %s failed before answering (%s); trying another worker\n", worker.c_str(),
                   head.error.c_str());
      continue;
    }
    if (head.status == 200 && is_event_stream(head.content_type)) {
      // Not committed until the first data event: a worker dying while the request waits in
      // its queue (it only sent keep-alive comments) is retried elsewhere like a refused one.
      std::string first, chunk;
      while (!has_data_event(first) && up->next(chunk)) first += chunk;
      if (!has_data_event(first) && (up->failed() || first.empty())) {
        fleet_.end_request(worker, false, Clock::now());
        last_failure = worker + ": " + (up->failed() ? up->error() : "empty stream") + " before the first token";
        std::fprintf(stderr, "anychip route: %s failed before the first token; trying another worker\n", worker.c_str());
        continue;
      }
      const Clock::time_point first_token = Clock::now();
      affinity_.record(info.prefix_keys, worker);
      // Committed: from here the client has this worker's stream. A failure ends it with an
      // error event (never [DONE]) so clients do not mistake a cut reply for a whole one.
      auto finished = std::make_shared<bool>(false);
      res.status = 200;
      res.set_header("Cache-Control", "no-cache");
      res.set_header("X-Anychip-Worker", worker);
      res.set_chunked_content_provider(
          "text/event-stream",
          [this, up, worker, finished, active, pending = std::move(first), counter = StreamTokenCounter(), counted = uint64_t{0},
           predicted, sent, first_token](size_t, httplib::DataSink& sink) mutable {
            // Tokens are counted as they pass, so the fleet's tokens/s is live rather than a burst
            // at each reply's end (a final usage chunk may correct the count upwards).
            const auto count_new_tokens = [&] {
              if (counter.tokens() > counted) fleet_.add_generated_tokens(worker, counter.tokens() - counted);
              counted = std::max(counted, counter.tokens());
            };
            std::string chunk;
            for (;;) {
              const size_t end = complete_events_end(pending);
              if (end > 0) {
                counter.feed(std::string_view(pending).substr(0, end));
                count_new_tokens();
                if (!sink.write(pending.data(), end)) return false;  // the client went away
                pending.erase(0, end);
              }
              if (!up->next(chunk)) break;
              pending += chunk;
            }
            *finished = true;
            if (up->failed()) {
              fleet_.end_request(worker, false, Clock::now());
              metrics_.count_broken_stream();
              const std::string ev = stream_error_event(up->error());
              sink.write(ev.data(), ev.size());
            } else {
              const Clock::time_point end = Clock::now();
              fleet_.end_request(worker, true, end);
              counter.feed(pending);
              if (!pending.empty()) sink.write(pending.data(), pending.size());
              if (predicted) {
                // As loadgen and vLLM define them: TPOT over the tokens after the first.
                const auto ms = [](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
                const uint64_t n = counter.tokens();
                calibration_.observe(worker, predicted->ttft_ms, ms(first_token - sent), predicted->tpot_ms,
                                     n > 1 ? std::optional<double>(ms(end - first_token) / static_cast<double>(n - 1))
                                           : std::nullopt,
                                     end);
              }
            }
            count_new_tokens();
            sink.done();
            return true;
          },
          [this, up, worker, finished](bool) {
            if (*finished) return;
            up->cancel();
            fleet_.end_request(worker, true, Clock::now());  // the client left; not the worker's fault
          });
      return;
    }
    // A whole body: read it all before answering, so a worker failing half-way is retried.
    std::string body, chunk;
    while (up->next(chunk)) body += chunk;
    if (up->failed()) {
      fleet_.end_request(worker, false, Clock::now());
      last_failure = worker + ": " + up->error() + " while reading the answer";
      continue;
    }
    if (head.status >= 500 || head.status == 429) {
      // Overloaded or broken: another worker may do better. 429 is no fault of the worker's.
      fleet_.end_request(worker, head.status == 429, Clock::now());
      have_answer = true;
      last_status = head.status;
      last_body = std::move(body);
      last_type = head.content_type;
      continue;
    }
    fleet_.end_request(worker, true, Clock::now());
    if (head.status == 200) {
      affinity_.record(info.prefix_keys, worker);
      fleet_.add_generated_tokens(worker, completion_tokens_in(body));
    }
    res.status = head.status;
    res.set_header("X-Anychip-Worker", worker);
    res.set_content(body, head.content_type.empty() ? "application/json" : head.content_type);
    return;
  }
  if (have_answer) {
    res.status = last_status;
    if (last_status == 429) res.set_header("Retry-After", "1");
    res.set_content(last_body, last_type.empty() ? "application/json" : last_type);
    return;
  }
  if (!last_failure.empty()) {
    throw ApiError(502, "Every worker tried failed (last: " + last_failure + ").", "server_error", std::nullopt,
                   "workers_failed");
  }
  throw ApiError(503, info.model ? "No healthy worker is available for this request." : "No healthy worker is available.",
                 "service_unavailable_error", std::nullopt, "no_healthy_worker");
}

void RouterServer::install_routes() {
  httplib::Server& s = *http_;
  const size_t threads = static_cast<size_t>(std::max(options_.threads, 8));
  s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.set_payload_max_length(64u << 20);
  s.set_tcp_nodelay(true);
  s.set_keep_alive_timeout(5);
  s.set_read_timeout(30, 0);
  s.set_write_timeout(30, 0);

  s.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    const std::string allow = allowed_methods(req.path);
    const bool allowed = allow == "POST" ? req.method == "POST" : (req.method == "GET" || req.method == "HEAD");
    if (!allow.empty() && !allowed) {
      res.set_header("Allow", allow);
      send_error(res, ApiError(405, "Method " + req.method + " is not allowed here; use " + allow + "."));
      return httplib::Server::HandlerResponse::Handled;
    }
    // httplib would read a POST with neither Content-Length nor chunked encoding until the client
    // closes; such a request has no body (RFC 9112 6.3), so answer it now.
    if (req.method == "POST" && !req.has_header("Content-Length") && !req.has_header("Transfer-Encoding")) {
      send_error(res, ApiError(400, "The request has no body; send a JSON object with a Content-Length."));
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  s.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    const std::optional<std::string> code = res.status == 404 ? std::optional<std::string>("unknown_url") : std::nullopt;
    const std::string msg = res.status == 404 ? "Unknown path." : "The request failed.";
    res.set_content(server::error_body(msg, server::error_type_for_status(res.status), std::nullopt, code),
                    "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    try {
      std::rethrow_exception(ep);
    } catch (const ApiError& e) {
      send_error(res, e);
    } catch (const std::exception& e) {
      send_error(res, ApiError(500, std::string("internal error: ") + e.what(), "server_error"));
    } catch (...) {
      send_error(res, ApiError(500, "internal error", "server_error"));
    }
  });
  s.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    metrics_.count_request(res.status);
    if (req.path == "/health" || req.path == "/metrics" || req.path == "/v1/fleet/heartbeat" || req.path == "/fleet" ||
        req.path == "/fleet/history") {
      return;  // polled often
    }
    const std::string worker = res.get_header_value("X-Anychip-Worker");
    // One call per line: lines from many threads do not interleave.
    std::fprintf(stderr, "anychip route: %s %s %d%s%s\n", req.method.c_str(), req.path.c_str(), res.status,
                 worker.empty() ? "" : " <- ", worker.c_str());
  });

  s.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) { handle_completion(req, res, true); });
  s.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) { handle_completion(req, res, false); });

  const auto model_ids = [this] {
    std::set<std::string> ids;
    for (const auto& w : fleet_.snapshot(Clock::now())) {
      if (w.available) ids.insert(w.models.begin(), w.models.end());
    }
    return ids;
  };
  const auto model_object = [](const std::string& id) {
    nlohmann::ordered_json j;
    j["id"] = id;
    j["object"] = "model";
    j["created"] = 0;
    j["owned_by"] = "anychip";
    return j;
  };
  s.Get("/v1/models", [this, model_ids, model_object](const httplib::Request& req, httplib::Response& res) {
    check_key(req);
    nlohmann::ordered_json j;
    j["object"] = "list";
    j["data"] = nlohmann::ordered_json::array();
    for (const std::string& id : model_ids()) j["data"].push_back(model_object(id));
    res.set_content(server::dump_json(j), "application/json");
  });
  s.Get(R"(/v1/models/(.+))", [this, model_ids, model_object](const httplib::Request& req, httplib::Response& res) {
    check_key(req);
    const std::string name = req.matches[1];
    if (!model_ids().count(name)) {
      throw ApiError(404, "The model '" + name + "' does not exist.", "invalid_request_error", "model", "model_not_found");
    }
    res.set_content(server::dump_json(model_object(name)), "application/json");
  });

  // Workers register with the same key clients use (when one is set).
  s.Post("/v1/fleet/register", [this](const httplib::Request& req, httplib::Response& res) {
    check_key(req);
    const WorkerReport r = parse_registration(req.body);
    fleet_.register_worker(r, Clock::now());
    if (publisher_) publisher_->registered(r);
    std::fprintf(stderr, "anychip route: worker %s joined (%s, price %.4g/h, %s profile)\n", r.url.c_str(),
                 r.device.empty() ? "device unknown" : r.device.c_str(), r.price_per_hour,
                 r.profile.has ? "with" : "no");
    res.set_content(R"({"status":"registered"})", "application/json");
  });
  s.Post("/v1/fleet/heartbeat", [this](const httplib::Request& req, httplib::Response& res) {
    check_key(req);
    LiveLoad load;
    const std::string url = parse_heartbeat(req.body, load);
    if (!fleet_.heartbeat(url, load, Clock::now())) {
      throw ApiError(404, "Unknown worker " + url + "; register first.", "not_found_error", "url", "unknown_worker");
    }
    if (publisher_) publisher_->heartbeat(url, load);
    res.set_content(R"({"status":"ok"})", "application/json");
  });

  s.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    if (draining_.load()) {
      res.status = 503;
      res.set_content(R"({"status":"draining"})", "application/json");
      return;
    }
    const int n = fleet_.healthy_count(Clock::now());
    res.status = n > 0 ? 200 : 503;
    res.set_content(nlohmann::json{{"status", n > 0 ? "ok" : "no_healthy_worker"}, {"healthy_workers", n}}.dump(),
                    "application/json");
  });
  // The dashboard and its data are open like /metrics: operators' views, no completions.
  s.Get("/", [](const httplib::Request&, httplib::Response& res) {
    const std::string_view page = dashboard_html();
    res.set_header("Cache-Control", "no-cache");
    res.set_content(page.data(), page.size(), "text/html; charset=utf-8");
  });
  s.Get("/fleet", [this](const httplib::Request&, httplib::Response& res) {
    const auto now = Clock::now();
    FleetViewContext c;
    c.policy = policy_name(options_.policy);
    c.time_s = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    c.uptime_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    if (options_.etcd) c.etcd = options_.etcd->endpoint + " " + options_.etcd->prefix;
    c.healthy = fleet_.healthy_count(now);
    res.set_header("Cache-Control", "no-store");
    res.set_content(server::dump_json(fleet_view(fleet_.stats(now), fleet_.totals(now), c)), "application/json");
  });
  s.Get("/fleet/history", [this](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_content(server::dump_json(history_->series()), "application/json");
  });
  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    const auto now = Clock::now();
    res.set_content(metrics_.render(fleet_.stats(now), fleet_.healthy_count(now), fleet_.totals(now)),
                    "text/plain; version=0.0.4; charset=utf-8");
  });
}

}  // namespace anychip::router
