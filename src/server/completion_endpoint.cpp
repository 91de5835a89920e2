#include "server/completion_endpoint.h"

#include <chrono>
#include <random>

#include "server/api_error.h"
#include "server/completion_stream.h"
#include "server/request_log.h"
#include "util/error.h"

namespace anychip::server {
namespace {

// How long a provider call waits for outputs before checking the connection: short enough that a
// vanished client is noticed quickly, long enough not to spin.
constexpr std::chrono::milliseconds kPollInterval{50};

uint64_t random_seed() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

engine::RequestOptions engine_options(const CompletionRequest& r, int64_t prompt_len, const ServedModel& model) {
  engine::RequestOptions o;
  // Without max_tokens a chat reply may use the rest of the context (OpenAI's behaviour), or of
  // the KV pool when that is smaller; a text completion gets OpenAI's default of 16. The engine
  // rejects a prompt that leaves no room.
  const int64_t room = std::max<int64_t>(1, model.max_sequence_tokens() - prompt_len);
  o.max_tokens = r.max_tokens ? *r.max_tokens : static_cast<int>(r.kind == CompletionRequest::Kind::Chat ? room : 16);
  o.sampling = r.sampling;
  if (!r.seed_given) o.sampling.seed = random_seed();  // no seed: a fresh draw per request
  o.stop = r.stop;
  o.ignore_eos = r.ignore_eos;
  return o;
}

}  // namespace

void handle_completion(const httplib::Request& req, httplib::Response& res, bool chat, const ServedModel& model,
                       ServerMetrics& metrics, std::shared_ptr<RequestTracker::Ticket> ticket) {
  const auto arrival = current_request_record().start.value_or(std::chrono::steady_clock::now());
  const CompletionRequest r = chat ? parse_chat_request(req.body) : parse_completion_request(req.body);
  if (r.model && !model.answers_to(*r.model)) {
    throw ApiError(404, "The model '" + *r.model + "' does not exist; this server serves '" + model.id() + "'.",
                   "invalid_request_error", "model", "model_not_found");
  }
  const std::vector<int32_t> prompt = model.prompt_tokens(r);
  current_request_record().prompt_tokens = static_cast<int>(prompt.size());
  const engine::RequestOptions options = engine_options(r, static_cast<int64_t>(prompt.size()), model);

  auto channel = std::make_shared<OutputChannel>();
  uint64_t id = 0;
  try {
    id = model.engine().submit(prompt, options, [channel](const engine::RequestOutput& o) { channel->push(o); });
  } catch (const engine::QueueFullError& e) {
    throw ApiError(429, std::string("The server is at capacity: ") + e.what() + ". Retry shortly.",
                   "rate_limit_error", std::nullopt, "queue_full");
  } catch (const engine::RequestError& e) {
    // Name the field this endpoint's client sent: the prompt is "messages" in a chat request and
    // "prompt" in a text completion, whichever word the engine used.
    std::string param = e.param();
    if (chat && param == "prompt") param = "messages";
    if (!chat && param == "messages") param = "prompt";
    throw ApiError(400, e.what(), "invalid_request_error", param.empty() ? std::nullopt : std::optional(param));
  } catch (const Error& e) {
    throw ApiError(400, e.what());
  }
  ticket->set_engine_id(id);

  CompletionStream::Config config;
  config.meta.chat = chat;
  config.meta.id = make_response_id(chat);
  config.meta.created = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
  config.meta.model = model.id();
  config.stream = r.stream;
  config.include_usage = r.stream && r.include_usage;
  config.arrival = arrival;
  engine::ServingEngine* engine = &model.engine();
  auto stream = std::make_shared<CompletionStream>(config, channel, [engine, id] { engine->cancel(id); }, &metrics);

  // Both kinds answer through a chunked provider: it runs on this connection's thread after the
  // headers, and between outputs it can see whether the client is still there. The releaser runs
  // when the response is done with (written or abandoned); it holds the tracker ticket so drain
  // waits for the body to be written.
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      r.stream ? "text/event-stream" : "application/json",
      [stream](size_t, httplib::DataSink& sink) {
        StreamSink s;
        s.write = [&sink](const std::string& data) { return sink.write(data.data(), data.size()); };
        s.done = [&sink] { sink.done(); };
        s.alive = [&sink] { return sink.is_writable(); };
        return stream->pump(s, kPollInterval);
      },
      [stream, ticket](bool) { stream->release(); });
}

}  // namespace anychip::server
