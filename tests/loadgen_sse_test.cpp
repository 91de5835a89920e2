// The SSE parser on input split at every possible place, and the reply's reading of OpenAI
// chunks: content, usage, errors.
#include <gtest/gtest.h>

#include "loadgen/reply.h"
#include "loadgen/sse.h"
#include "loadgen/url.h"
#include "util/error.h"

namespace anychip::loadgen {
namespace {

std::vector<std::string> parse_in_pieces(const std::string& body, const std::vector<size_t>& cuts) {
  std::vector<std::string> events;
  SseParser p([&](std::string_view d) {
    events.emplace_back(d);
    return true;
  });
  size_t at = 0;
  for (size_t cut : cuts) {
    EXPECT_TRUE(p.feed(std::string_view(body).substr(at, cut - at)));
    at = cut;
  }
  EXPECT_TRUE(p.feed(std::string_view(body).substr(at)));
  EXPECT_TRUE(p.finish());
  return events;
}

const std::string kStream =
    ": keep-alive\r\n"
    "data: {\"a\":1}\r\n\r\n"
    "event: message\n"
    "data:{\"b\":2}\n\n"
    "data: line one\n"
    "data: line two\n\n"
    "id: 7\n\n"  // an event with no data dispatches nothing
    "data: [DONE]\n\n";
const std::vector<std::string> kEvents = {"{\"a\":1}", "{\"b\":2}", "line one\nline two", "[DONE]"};

TEST(LoadgenSse, WholeBody) { EXPECT_EQ(parse_in_pieces(kStream, {}), kEvents); }

TEST(LoadgenSse, EverySingleSplitPoint) {
  for (size_t cut = 1; cut < kStream.size(); ++cut) EXPECT_EQ(parse_in_pieces(kStream, {cut}), kEvents) << "cut at " << cut;
}

TEST(LoadgenSse, ByteByByte) {
  std::vector<size_t> cuts;
  for (size_t i = 1; i < kStream.size(); ++i) cuts.push_back(i);
  EXPECT_EQ(parse_in_pieces(kStream, cuts), kEvents);
}

TEST(LoadgenSse, FinalEventWithoutBlankLineIsDelivered) {
  EXPECT_EQ(parse_in_pieces("data: x\n\ndata: last", {}), (std::vector<std::string>{"x", "last"}));
}

TEST(LoadgenSse, CallbackCanStop) {
  int seen = 0;
  SseParser p([&](std::string_view) { return ++seen < 2; });
  EXPECT_FALSE(p.feed("data: 1\n\ndata: 2\n\ndata: 3\n\n"));
  EXPECT_EQ(seen, 2);
  EXPECT_FALSE(p.feed("data: 4\n\n"));
  EXPECT_EQ(seen, 2);
}

TEST(LoadgenReply, ChatStreamTiming) {
  Reply r(Endpoint::chat, 1.0);
  EXPECT_TRUE(r.on_event(R"({"choices":[{"delta":{"role":"assistant","content":""}}],"usage":null})", 1.05));
  EXPECT_TRUE(r.on_event(R"({"choices":[{"delta":{"content":"Hi"}}]})", 1.2));
  EXPECT_TRUE(r.on_event(R"({"choices":[{"delta":{"content":" there"}}]})", 1.25));
  EXPECT_TRUE(r.on_event(R"({"choices":[{"delta":{"content":"!"}}]})", 1.4));
  EXPECT_TRUE(r.on_event(R"({"choices":[{"delta":{},"finish_reason":"length"}]})", 1.45));
  EXPECT_TRUE(r.on_event(R"({"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":5}})", 1.5));
  EXPECT_TRUE(r.on_event("[DONE]", 1.6));
  const RequestOutcome o = r.finish(99, 1.6);
  ASSERT_EQ(o.status, Status::completed) << o.error;
  EXPECT_NEAR(o.ttft, 0.2, 1e-12);  // the role-only chunk is not the first token
  EXPECT_NEAR(o.e2e, 0.5, 1e-12);   // the last event before [DONE]
  ASSERT_EQ(o.itl.size(), 2u);
  EXPECT_NEAR(o.itl[0], 0.05, 1e-12);
  EXPECT_NEAR(o.itl[1], 0.15, 1e-12);
  EXPECT_EQ(o.output_tokens, 5);  // usage wins over the 3 chunks
  EXPECT_EQ(o.prompt_tokens, 12);
}

TEST(LoadgenReply, CompletionsWithoutUsageCountsChunks) {
  Reply r(Endpoint::completions, 0.0);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(r.on_event(R"({"choices":[{"text":"x"}]})", 0.1 * (i + 1)));
  const RequestOutcome o = r.finish(33, 0.5);
  ASSERT_EQ(o.status, Status::completed);
  EXPECT_EQ(o.output_tokens, 4);
  EXPECT_EQ(o.prompt_tokens, 33);
  EXPECT_EQ(o.itl.size(), 3u);
}

TEST(LoadgenReply, WholeBody) {
  Reply r(Endpoint::chat, 0.0);
  r.on_body(R"({"choices":[{"message":{"role":"assistant","content":"a b c"}}]})", 0.8);
  const RequestOutcome o = r.finish(3, 0.8);
  ASSERT_EQ(o.status, Status::completed);
  EXPECT_EQ(o.output_tokens, 3);  // words, without usage
  EXPECT_NEAR(o.ttft, 0.8, 1e-12);
  EXPECT_TRUE(o.itl.empty());
}

TEST(LoadgenReply, FailuresHaveReasons) {
  Reply bad(Endpoint::chat, 0.0);
  EXPECT_FALSE(bad.on_event("{not json", 0.1));
  EXPECT_EQ(bad.finish(1, 0.1).status, Status::failed);
  EXPECT_NE(bad.error().find("malformed stream event"), std::string::npos);

  Reply err(Endpoint::chat, 0.0);
  EXPECT_FALSE(err.on_event(R"({"error":{"message":"context too long"}})", 0.1));
  EXPECT_EQ(err.finish(1, 0.1).error, "server error in stream: context too long");

  Reply empty(Endpoint::chat, 0.0);
  EXPECT_TRUE(empty.on_event(R"({"choices":[{"delta":{"content":""}}]})", 0.1));
  EXPECT_EQ(empty.finish(1, 0.2).error, "no content received");

  EXPECT_EQ(http_status_error(503, R"({"error":{"message":"busy"}})"), "HTTP 503: busy");
  EXPECT_EQ(http_status_error(404, "Not\nFound"), "HTTP 404: Not Found");
  EXPECT_EQ(http_status_error(500, ""), "HTTP 500");
}

TEST(LoadgenUrl, ResolvesPaths) {
  EXPECT_EQ(resolve_url("http://localhost:8080", Endpoint::chat).path, "/v1/chat/completions");
  EXPECT_EQ(resolve_url("http://localhost:8080/", Endpoint::completions).path, "/v1/completions");
  EXPECT_EQ(resolve_url("http://h/v1", Endpoint::chat).path, "/v1/chat/completions");
  EXPECT_EQ(resolve_url("http://h/llm", Endpoint::chat).path, "/llm/v1/chat/completions");
  const ServerUrl full = resolve_url("https://h:8443/api/v1/chat/completions", Endpoint::chat);
  EXPECT_EQ(full.origin, "https://h:8443");
  EXPECT_EQ(full.path, "/api/v1/chat/completions");
  EXPECT_EQ(full.models_path, "/api/v1/models");
  EXPECT_EQ(resolve_url("http://[::1]:9000", Endpoint::chat).origin, "http://[::1]:9000");
  for (const char* bad : {"localhost:8080", "ftp://h", "http://", "http://h:0", "http://h:99999", "http://h:x",
                          "http://:80", "http://u@h"})
    EXPECT_THROW(resolve_url(bad, Endpoint::chat), Error) << bad;
  EXPECT_THROW(resolve_url("http://h/v1/completions", Endpoint::chat), Error);
}

}  // namespace
}  // namespace anychip::loadgen
