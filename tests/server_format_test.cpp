// The exact shapes OpenAI clients parse: error bodies, responses, streamed chunks, SSE framing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/api_error.h"
#include "server/byte_size.h"
#include "server/openai_format.h"
#include "server/request_log.h"
#include "server/sse.h"
#include "util/error.h"

namespace anychip::server {
namespace {

using json = nlohmann::json;

TEST(ServerFormat, ErrorBody) {
  const json e = json::parse(error_body(bad_param("max_tokens", "'max_tokens' must be an integer")));
  EXPECT_EQ(e, json::parse(R"({"error":{"message":"'max_tokens' must be an integer","type":"invalid_request_error",
                                         "param":"max_tokens","code":null}})"));
  const json nf = json::parse(error_body(ApiError(404, "no such model", "invalid_request_error", "model", "model_not_found")));
  EXPECT_EQ(nf["error"]["code"], "model_not_found");
  EXPECT_EQ(nf["error"]["param"], "model");
  const json bare = json::parse(error_body("x", "server_error"));
  EXPECT_TRUE(bare["error"]["param"].is_null());
  EXPECT_TRUE(bare["error"]["code"].is_null());
  // Invalid UTF-8 from a client must not make the error path itself throw.
  EXPECT_NO_THROW(json::parse(error_body(std::string("bad \xff byte"), "invalid_request_error")));
  EXPECT_EQ(error_type_for_status(401), "authentication_error");
  EXPECT_EQ(error_type_for_status(429), "rate_limit_error");
  EXPECT_EQ(error_type_for_status(413), "invalid_request_error");
}

ResponseMeta meta(bool chat) { return {chat, chat ? "chatcmpl-1" : "cmpl-1", 1700000000, "tiny"}; }

TEST(ServerFormat, ChatCompletion) {
  const json r = json::parse(dump_json(completion_response(meta(true), "Hello", engine::FinishReason::Eos, {5, 2})));
  EXPECT_EQ(r, json::parse(R"({"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"tiny",
      "choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"logprobs":null,"finish_reason":"stop"}],
      "usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}})"));
}

TEST(ServerFormat, TextCompletion) {
  const json r = json::parse(dump_json(completion_response(meta(false), " there", engine::FinishReason::Length, {3, 4})));
  EXPECT_EQ(r["object"], "text_completion");
  EXPECT_EQ(r["choices"][0]["text"], " there");
  EXPECT_EQ(r["choices"][0]["finish_reason"], "length");
  EXPECT_FALSE(r["choices"][0].contains("message"));
  EXPECT_EQ(r["usage"]["total_tokens"], 7);
}

TEST(ServerFormat, FinishReasons) {
  EXPECT_STREQ(openai_finish_reason(engine::FinishReason::Eos), "stop");
  EXPECT_STREQ(openai_finish_reason(engine::FinishReason::Stop), "stop");
  EXPECT_STREQ(openai_finish_reason(engine::FinishReason::Length), "length");
}

TEST(ServerFormat, ChatChunks) {
  const json first = completion_chunk(meta(true), "assistant", "", std::nullopt, false);
  EXPECT_EQ(first["object"], "chat.completion.chunk");
  EXPECT_EQ(first["choices"][0]["delta"], json::parse(R"({"role":"assistant","content":""})"));
  EXPECT_TRUE(first["choices"][0]["finish_reason"].is_null());
  EXPECT_FALSE(first.contains("usage"));
  const json last = completion_chunk(meta(true), std::nullopt, std::nullopt, engine::FinishReason::Length, true);
  EXPECT_EQ(last["choices"][0]["delta"], json::object());
  EXPECT_EQ(last["choices"][0]["finish_reason"], "length");
  EXPECT_TRUE(last["usage"].is_null());
  const json usage = usage_chunk(meta(true), {4, 6});
  EXPECT_EQ(usage["choices"], json::array());
  EXPECT_EQ(usage["usage"]["total_tokens"], 10);
}

TEST(ServerFormat, SseFraming) {
  const std::string e = sse_event(json{{"a", "line\nbreak"}});
  EXPECT_EQ(e, "data: {\"a\":\"line\\nbreak\"}\n\n");  // one line per event, blank line after
  EXPECT_EQ(sse_done(), "data: [DONE]\n\n");
  EXPECT_EQ(sse_comment().front(), ':');
}

TEST(ServerFormat, ResponseIdsAreUnique) {
  const std::string a = make_response_id(true), b = make_response_id(true);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.rfind("chatcmpl-", 0), 0u);
  EXPECT_EQ(make_response_id(false).rfind("cmpl-", 0), 0u);
}

TEST(ServerFormat, ByteSizes) {
  EXPECT_EQ(parse_byte_size("512M"), 512ull << 20);
  EXPECT_EQ(parse_byte_size("2G"), 2ull << 30);
  EXPECT_EQ(parse_byte_size("2gib"), 2ull << 30);
  EXPECT_EQ(parse_byte_size("1.5K"), 1536u);
  EXPECT_EQ(parse_byte_size("4096"), 4096u);
  for (const char* bad : {"", "M", "12X", "-1G", "1..2M", "0", "1e3"}) EXPECT_THROW(parse_byte_size(bad), Error) << bad;
}

TEST(ServerFormat, RequestLogLine) {
  RequestRecord r;
  const auto now = std::chrono::steady_clock::now();
  r.start = now - std::chrono::milliseconds(1500);
  r.prompt_tokens = 12;
  r.completion_tokens = 3;
  EXPECT_EQ(format_request_line("POST", "/v1/completions", 200, r, now), "POST /v1/completions 200 prompt=12 completion=3 1.500s");
  EXPECT_EQ(format_request_line("GET", "/health", 503, RequestRecord{}, now), "GET /health 503 0.000s");
}

}  // namespace
}  // namespace anychip::server
