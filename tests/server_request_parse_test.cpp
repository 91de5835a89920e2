// Request bodies of /v1/chat/completions and /v1/completions: what is accepted, the defaults, and
// that every rejection is a 400 naming the field.
#include <gtest/gtest.h>

#include <string>

#include "server/api_error.h"
#include "server/request_parse.h"

namespace anychip::server {
namespace {

// The param of the ApiError a body raises ("" for none); fails the test when nothing is thrown.
std::string rejected_param(const std::string& body, bool chat = true) {
  try {
    if (chat) parse_chat_request(body);
    else parse_completion_request(body);
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 400) << body;
    EXPECT_EQ(e.type(), "invalid_request_error");
    return e.param().value_or("");
  }
  ADD_FAILURE() << "accepted: " << body;
  return "<accepted>";
}

const std::string kHello = R"("messages":[{"role":"user","content":"hi"}])";

TEST(ServerRequestParse, ChatDefaults) {
  const CompletionRequest r = parse_chat_request("{" + kHello + "}");
  EXPECT_EQ(r.kind, CompletionRequest::Kind::Chat);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0]["role"], "user");
  EXPECT_EQ(r.messages[0]["content"], "hi");
  EXPECT_FALSE(r.model);
  EXPECT_FALSE(r.max_tokens);
  EXPECT_FALSE(r.stream);
  EXPECT_FALSE(r.seed_given);
  EXPECT_FLOAT_EQ(r.sampling.temperature, 1.0f);
  EXPECT_FLOAT_EQ(r.sampling.top_p, 1.0f);
  EXPECT_EQ(r.sampling.top_k, 0);
  EXPECT_FLOAT_EQ(r.sampling.min_p, 0.0f);
}

TEST(ServerRequestParse, ChatFields) {
  const CompletionRequest r = parse_chat_request(
      R"({"model":"m","messages":[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}],
          "max_tokens":7,"temperature":0.5,"top_p":0.9,"seed":-3,"stop":["x","y"],"n":1,"stream":true,
          "stream_options":{"include_usage":true},"ignore_eos":true,"presence_penalty":0.5,"frequency_penalty":-1,
          "user":"someone","logprobs":false})");
  EXPECT_EQ(*r.model, "m");
  EXPECT_EQ(r.messages[1]["content"], "a\nb");
  EXPECT_EQ(*r.max_tokens, 7);
  EXPECT_FLOAT_EQ(r.sampling.temperature, 0.5f);
  EXPECT_FLOAT_EQ(r.sampling.top_p, 0.9f);
  EXPECT_TRUE(r.seed_given);
  EXPECT_EQ(r.sampling.seed, static_cast<uint64_t>(int64_t{-3}));
  EXPECT_EQ(r.stop, (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  EXPECT_TRUE(r.ignore_eos);
  EXPECT_FLOAT_EQ(r.sampling.presence_penalty, 0.5f);
  EXPECT_FLOAT_EQ(r.sampling.frequency_penalty, -1.0f);
}

TEST(ServerRequestParse, MaxCompletionTokensWinsAndNullIsDefault) {
  EXPECT_EQ(*parse_chat_request("{" + kHello + R"(,"max_tokens":5,"max_completion_tokens":9})").max_tokens, 9);
  EXPECT_EQ(*parse_chat_request("{" + kHello + R"(,"max_tokens":12.0})").max_tokens, 12);
  const CompletionRequest r = parse_chat_request("{" + kHello + R"(,"max_tokens":null,"temperature":null,"stop":null})");
  EXPECT_FALSE(r.max_tokens);
  EXPECT_TRUE(r.stop.empty());
  EXPECT_EQ(parse_chat_request("{" + kHello + R"(,"stop":"END"})").stop, std::vector<std::string>{"END"});
}

TEST(ServerRequestParse, MalformedBodies) {
  EXPECT_EQ(rejected_param("{"), "");
  EXPECT_EQ(rejected_param(""), "");
  EXPECT_EQ(rejected_param("[1,2]"), "");
  EXPECT_EQ(rejected_param("\"text\""), "");
  EXPECT_EQ(rejected_param(R"({"messages":[{"role":"user","content":"\ud800"}]})"), "");  // lone surrogate
  // Deep nesting must neither crash nor recurse without bound.
  EXPECT_EQ(rejected_param(std::string(100000, '[')), "");
  const std::string deep = std::string(20000, '[') + std::string(20000, ']');
  EXPECT_EQ(rejected_param(R"({"messages":)" + deep + "}"), "messages[0]");
}

TEST(ServerRequestParse, WrongTypesNameTheField) {
  EXPECT_EQ(rejected_param("{}"), "messages");
  EXPECT_EQ(rejected_param(R"({"messages":"hi"})"), "messages");
  EXPECT_EQ(rejected_param(R"({"messages":[]})"), "messages");
  EXPECT_EQ(rejected_param(R"({"messages":[1]})"), "messages[0]");
  EXPECT_EQ(rejected_param(R"({"messages":[{"content":"x"}]})"), "messages[0].role");
  EXPECT_EQ(rejected_param(R"({"messages":[{"role":"wizard","content":"x"}]})"), "messages[0].role");
  EXPECT_EQ(rejected_param(R"({"messages":[{"role":"user"}]})"), "messages[0].content");
  EXPECT_EQ(rejected_param(R"({"messages":[{"role":"user","content":5}]})"), "messages[0].content");
  EXPECT_EQ(rejected_param(R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]})"),
            "messages[0].content[0].type");
  EXPECT_EQ(rejected_param(R"({"messages":[{"role":"user","content":[{"type":"text"}]}]})"),
            "messages[0].content[0].text");
  EXPECT_EQ(rejected_param("{" + kHello + R"(,"model":3})"), "model");
  EXPECT_EQ(rejected_param("{" + kHello + R"(,"max_tokens":"abc"})"), "max_tokens");
  EXPECT_EQ(rejected_param("{" + kHello + R"(,"max_tokens":0})"), "max_tokens");
  EXPECT_EQ(rejected_param("{" + kHello + R"(,"max_tokens":1.5})"), "max_tokens");
  EXPECT_EQ(rejected_param("{" + kHello + R"(,"max_tokens":true})"), "max_tokens");
  EXPECT_EQ(rejected_param("{" + kHello + R"(,"max_tokens":99999999999999999999})"), "max_tokens");
  EXPECT_EQ(rejected_param("{" + kHello + R"(,"max_completion_tokens":-1})"), "max_completion_tokens");
  EXPECT_EQ(rejected_param("{" + kHello + R"(,"temperature":-1})"), "temperature");
  EXPECT_EQ(rejected_param("{" + kHello + R"(,"temperature":"hot"})"), "temperature");
  EXPECT_EQ(rejected_param("{" + kHello + R"(,"temperature":2.5})"), "temperature");
  EXPECT_EQ(rejected_param("{" + kHello + R"(,"top_p":0})"), "top_p");
  EXPECT_EQ(rejected_param("{" + kHello + R"(,"top_p":1.1})"), "top_p");
  EXPECT_EQ(rejected_param("{" + kHello + R"(,"seed":"x"})"), "seed");
  EXPECT_EQ(rejected_param("{" + kHello + R"(,"n":2})"), "n");
  EXPECT_EQ(rejected_param("{" + kHello + R"(,"n":"1"})"), "n");
  EXPECT_EQ(rejected_param("{" + kHello + R"(,"stop":["a","b","c","d","e"]})"), "stop");
  EXPECT_EQ(rejected_param("{" + kHello + R"(,"stop":[1]})"), "stop");
  EXPECT_EQ(rejected_param("{" + kHello + R"(,"stop":{}})"), "stop");
  EXPECT_EQ(rejected_param("{" + kHello + R"(,"stream":"yes"})"), "stream");
  EXPECT_EQ(rejected_param("{" + kHello + R"(,"stream_options":[]})"), "stream_options");
  EXPECT_EQ(rejected_param("{" + kHello + R"(,"stream_options":{"include_usage":1}})"), "stream_options.include_usage");
  EXPECT_EQ(rejected_param("{" + kHello + R"(,"presence_penalty":3})"), "presence_penalty");
  EXPECT_EQ(rejected_param("{" + kHello + R"(,"frequency_penalty":-2.5})"), "frequency_penalty");
  EXPECT_EQ(rejected_param("{" + kHello + R"(,"ignore_eos":"no"})"), "ignore_eos");
  EXPECT_EQ(rejected_param("{" + kHello + R"(,"logprobs":true})"), "logprobs");
}

TEST(ServerRequestParse, CompletionPrompts) {
  CompletionRequest r = parse_completion_request(R"({"prompt":"Once upon"})");
  EXPECT_EQ(r.kind, CompletionRequest::Kind::Text);
  EXPECT_EQ(r.prompt_text, "Once upon");
  EXPECT_FALSE(r.prompt_is_tokens);
  r = parse_completion_request(R"({"prompt":["Once"]})");
  EXPECT_EQ(r.prompt_text, "Once");
  r = parse_completion_request(R"({"prompt":[1,2,3],"max_tokens":4})");
  EXPECT_TRUE(r.prompt_is_tokens);
  EXPECT_EQ(r.prompt_tokens, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(*r.max_tokens, 4);
  r = parse_completion_request(R"({"prompt":[[5,6]]})");
  EXPECT_EQ(r.prompt_tokens, (std::vector<int32_t>{5, 6}));
  // max_completion_tokens belongs to chat only.
  EXPECT_FALSE(parse_completion_request(R"({"prompt":"x","max_completion_tokens":3})").max_tokens);
}

TEST(ServerRequestParse, CompletionRejections) {
  EXPECT_EQ(rejected_param("{}", false), "prompt");
  EXPECT_EQ(rejected_param(R"({"prompt":5})", false), "prompt");
  EXPECT_EQ(rejected_param(R"({"prompt":[]})", false), "prompt");
  EXPECT_EQ(rejected_param(R"({"prompt":["a","b"]})", false), "prompt");
  EXPECT_EQ(rejected_param(R"({"prompt":[1,"a"]})", false), "prompt");
  EXPECT_EQ(rejected_param(R"({"prompt":[-1]})", false), "prompt");
  EXPECT_EQ(rejected_param(R"({"prompt":[[]]})", false), "prompt");
  EXPECT_EQ(rejected_param(R"({"prompt":"x","echo":true})", false), "echo");
  EXPECT_EQ(rejected_param(R"({"prompt":"x","best_of":3})", false), "best_of");
  EXPECT_EQ(rejected_param(R"({"prompt":"x","logprobs":2})", false), "logprobs");
  EXPECT_EQ(rejected_param(R"({"prompt":"x","max_tokens":"abc"})", false), "max_tokens");
}

}  // namespace
}  // namespace anychip::server
