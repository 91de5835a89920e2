// CompletionStream: engine outputs in, response body out. Streams are exact SSE sequences
// (role chunk, content chunks, finish chunk, optional usage chunk, [DONE]); a vanished client or a
// failed write cancels the request in the engine; a finished one is never cancelled.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "server/completion_stream.h"

namespace anychip::server {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

struct FakeSink {
  std::string body;
  bool done = false;
  bool alive = true;
  bool fail_writes = false;
  StreamSink sink() {
    return {[this](const std::string& s) {
              if (fail_writes) return false;
              body += s;
              return true;
            },
            [this] { done = true; }, [this] { return alive; }};
  }
};

engine::RequestOutput out(std::string text, int completion, bool finished = false,
                          engine::FinishReason finish = engine::FinishReason::Length) {
  engine::RequestOutput o;
  o.text = std::move(text);
  o.tokens = {42};
  o.prompt_tokens = 5;
  o.completion_tokens = completion;
  o.finished = finished;
  o.finish = finish;
  return o;
}

struct Fixture {
  std::shared_ptr<OutputChannel> channel = std::make_shared<OutputChannel>();
  int cancels = 0;
  ServerMetrics metrics;
  std::unique_ptr<CompletionStream> stream;
  Fixture(bool chat, bool streaming, bool include_usage = false) {
    CompletionStream::Config c;
    c.meta = {chat, "id-1", 123, "tiny"};
    c.stream = streaming;
    c.include_usage = include_usage;
    c.arrival = std::chrono::steady_clock::now();
    stream = std::make_unique<CompletionStream>(c, channel, [this] { ++cancels; }, &metrics);
  }
};

// The JSON payloads of a body's `data:` events ("[DONE]" as a string).
std::vector<json> events(const std::string& body) {
  std::vector<json> out;
  size_t pos = 0;
  while (pos < body.size()) {
    const size_t end = body.find("\n\n", pos);
    EXPECT_NE(end, std::string::npos) << "unterminated event in: " << body;
    if (end == std::string::npos) break;
    const std::string ev = body.substr(pos, end - pos);
    EXPECT_EQ(ev.rfind("data: ", 0), 0u) << ev;
    EXPECT_EQ(ev.find('\n'), std::string::npos) << "one line per event: " << ev;
    const std::string data = ev.substr(6);
    out.push_back(data == "[DONE]" ? json("[DONE]") : json::parse(data));
    pos = end + 2;
  }
  return out;
}

TEST(ServerStream, ChatStreamSequence) {
  Fixture f(true, true, /*include_usage=*/true);
  FakeSink sink;
  f.channel->push(out("Hel", 1));
  f.channel->push(out("", 2));  // a token held back (e.g. a possible stop string) writes nothing
  ASSERT_TRUE(f.stream->pump(sink.sink(), 10ms));
  f.channel->push(out("lo", 3, true, engine::FinishReason::Eos));
  ASSERT_TRUE(f.stream->pump(sink.sink(), 10ms));
  EXPECT_TRUE(sink.done);
  const std::vector<json> ev = events(sink.body);
  ASSERT_EQ(ev.size(), 6u) << sink.body;
  EXPECT_EQ(ev[0]["choices"][0]["delta"], json::parse(R"({"role":"assistant","content":""})"));
  EXPECT_EQ(ev[1]["choices"][0]["delta"]["content"], "Hel");
  EXPECT_EQ(ev[2]["choices"][0]["delta"]["content"], "lo");
  EXPECT_EQ(ev[3]["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(ev[3]["choices"][0]["delta"], json::object());
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(ev[i]["object"], "chat.completion.chunk");
    EXPECT_EQ(ev[i]["id"], "id-1");
    EXPECT_TRUE(ev[i]["usage"].is_null());
  }
  EXPECT_EQ(ev[4]["choices"], json::array());
  EXPECT_EQ(ev[4]["usage"], json::parse(R"({"prompt_tokens":5,"completion_tokens":3,"total_tokens":8})"));
  EXPECT_EQ(ev[5], "[DONE]");
  EXPECT_EQ(f.cancels, 0);
  f.stream->release();
  EXPECT_EQ(f.cancels, 0);  // finished requests are not cancelled
  const std::string m = f.metrics.render(std::nullopt);
  EXPECT_NE(m.find("anychip_time_to_first_token_seconds_count 1\n"), std::string::npos);
  EXPECT_NE(m.find("anychip_inter_token_latency_seconds_count 2\n"), std::string::npos);
  EXPECT_NE(m.find("anychip_request_latency_seconds_count 1\n"), std::string::npos);
}

TEST(ServerStream, TextStreamWithoutUsage) {
  Fixture f(false, true);
  FakeSink sink;
  f.channel->push(out(" a", 1));
  f.channel->push(out(" b", 2, true, engine::FinishReason::Length));
  ASSERT_TRUE(f.stream->pump(sink.sink(), 10ms));
  const std::vector<json> ev = events(sink.body);
  ASSERT_EQ(ev.size(), 4u) << sink.body;
  EXPECT_EQ(ev[0]["object"], "text_completion");
  EXPECT_EQ(ev[0]["choices"][0]["text"], " a");
  EXPECT_EQ(ev[1]["choices"][0]["text"], " b");
  EXPECT_EQ(ev[2]["choices"][0]["text"], "");
  EXPECT_EQ(ev[2]["choices"][0]["finish_reason"], "length");
  EXPECT_FALSE(ev[2].contains("usage"));
  EXPECT_EQ(ev[3], "[DONE]");
}

TEST(ServerStream, NonStreamedIsOneObject) {
  Fixture f(true, false);
  FakeSink sink;
  f.channel->push(out("Hi", 1));
  ASSERT_TRUE(f.stream->pump(sink.sink(), 10ms));
  EXPECT_TRUE(sink.body.empty());  // nothing until the end
  f.channel->push(out(" there", 2, true, engine::FinishReason::Stop));
  ASSERT_TRUE(f.stream->pump(sink.sink(), 10ms));
  EXPECT_TRUE(sink.done);
  const json r = json::parse(sink.body);
  EXPECT_EQ(r["choices"][0]["message"]["content"], "Hi there");
  EXPECT_EQ(r["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(r["usage"]["completion_tokens"], 2);
}

TEST(ServerStream, EngineErrorEndsTheStream) {
  Fixture f(true, true);
  FakeSink sink;
  engine::RequestOutput o = out("", 0, true);
  o.error = "engine stopped";
  f.channel->push(o);
  ASSERT_TRUE(f.stream->pump(sink.sink(), 10ms));
  const std::vector<json> ev = events(sink.body);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0]["error"]["type"], "server_error");
  EXPECT_EQ(ev[1], "[DONE]");
  EXPECT_TRUE(sink.done);
}

TEST(ServerStream, VanishedClientCancels) {
  Fixture f(true, true);
  FakeSink sink;
  EXPECT_TRUE(f.stream->pump(sink.sink(), 1ms));  // waiting, client still there
  EXPECT_EQ(f.cancels, 0);
  sink.alive = false;
  EXPECT_FALSE(f.stream->pump(sink.sink(), 1ms));
  EXPECT_EQ(f.cancels, 1);
  f.stream->release();
  EXPECT_EQ(f.cancels, 1);  // once only
}

TEST(ServerStream, FailedWriteCancels) {
  Fixture f(false, true);
  FakeSink sink;
  sink.fail_writes = true;
  f.channel->push(out("x", 1));
  EXPECT_FALSE(f.stream->pump(sink.sink(), 10ms));
  EXPECT_EQ(f.cancels, 1);
}

TEST(ServerStream, AbandonedResponseCancels) {
  Fixture f(true, false);
  f.stream->release();  // e.g. the client left before the body started
  EXPECT_EQ(f.cancels, 1);
}

}  // namespace
}  // namespace anychip::server
