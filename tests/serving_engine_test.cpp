// The serving engine end to end on real models: batched results equal single-request results
// (greedy), chunked prefill, preemption under a tiny KV pool, prefix reuse, cancellation and
// admission errors.
#include "engine/serving_engine.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "backend/registry.h"

namespace anychip::engine {
namespace {

struct Reply {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<int32_t> tokens;
  std::string text;
  bool finished = false;
  RequestOutput last;

  OutputHandler handler() {
    return [this](const RequestOutput& out) {
      std::lock_guard lock(mutex);
      tokens.insert(tokens.end(), out.tokens.begin(), out.tokens.end());
      text += out.text;
      if (out.finished) {
        finished = true;
        last = out;
      }
      cv.notify_all();
    };
  }
  void wait() {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(120), [&] { return finished; })) << "request never finished";
  }
};


// Prompts of varied lengths: the reference prompts plus truncated and repeated variants.
std::vector<std::vector<int32_t>> make_prompts(const model::Model& m, int count) {
  std::vector<std::string> texts = {"I dreamed", "The quick brown fox jumps over the lazy dog.",
                                    "Once upon a time, in a land far away, there lived a",
                                    "1, 2, 3, 4, 5, 6, 7, 8,", "Hello"};
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < count; ++i) {
    std::string t = texts[static_cast<size_t>(i) % texts.size()];
    for (int r = 0; r < i / static_cast<int>(texts.size()); ++r) t += " " + texts[static_cast<size_t>(r) % texts.size()];
    prompts.push_back(m.tokenizer().encode(t, true, true));
  }
  return prompts;
}

// Stats are published after each step, just after the step's outputs went out.
EngineStats settled_stats(const ServingEngine& engine) {
  for (int i = 0; i < 500; ++i) {
    const EngineStats s = engine.stats();
    if (s.running == 0 && s.waiting == 0) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return engine.stats();
}

RequestOptions greedy(int max_tokens) {
  RequestOptions o;
  o.max_tokens = max_tokens;
  o.sampling.temperature = 0;
  o.ignore_eos = true;
  return o;
}

std::vector<std::vector<int32_t>> run_all(ServingEngine& engine, const std::vector<std::vector<int32_t>>& prompts,
                                          const RequestOptions& options, bool concurrent) {
  std::vector<std::unique_ptr<Reply>> replies;
  for (const auto& p : prompts) {
    replies.push_back(std::make_unique<Reply>());
    engine.submit(p, options, replies.back()->handler());
    if (!concurrent) replies.back()->wait();
  }
  std::vector<std::vector<int32_t>> out;
  for (auto& r : replies) {
    r->wait();
    EXPECT_TRUE(r->last.error.empty()) << r->last.error;
    out.push_back(r->tokens);
  }
  return out;
}

// The single-sequence generator (the `run` command's path) as the reference for the engine.
std::vector<int32_t> generate_alone(model::Model& m, const std::vector<int32_t>& prompt, int n) {
  model::KvCache cache = m.make_cache(static_cast<int64_t>(prompt.size()) + n + 1);
  SamplingParams s;
  s.temperature = 0;
  Sampler sampler(s);
  GenerateOptions o;
  o.n_predict = n;
  o.stop_at_eos = false;
  return generate(m, cache, prompt, o, sampler).ids;
}

std::vector<std::string> batch_models() {
  const std::filesystem::path shared = ANYCHIP_SHARED_DIR;
  std::vector<std::string> paths = {std::string(ANYCHIP_SOURCE_DIR) + "/models/aidreams-260k.gguf"};
  for (const char* name : {"c-llama-s7-f32", "c-llama-s7-f16", "c-llama-s7-bf16", "c-llama-s7-q4_0", "c-llama-s7-q8_0",
                           "c-llama-s7-q4_k_m", "c-llama-s7-q6_k", "c-qwen2-s7-q8_0", "c-qwen3-s7-q4_k_m"}) {
    paths.push_back((shared / "conformance" / (std::string(name) + ".gguf")).string());
  }
  return paths;
}

class BatchInvariance : public ::testing::TestWithParam<std::string> {};

TEST_P(BatchInvariance, SixteenConcurrentRequestsGiveTheTokensOfEachAlone) {
  auto device = backend::create_device("cpu", {2});
  auto model = model::Model::load(GetParam(), *device);
  EngineOptions eo;
  eo.max_seqs = 16;
  ServingEngine engine(*model, eo);
  const auto prompts = make_prompts(*model, 16);
  const RequestOptions o = greedy(24);
  const auto alone = run_all(engine, prompts, o, false);
  const auto batched = run_all(engine, prompts, o, true);
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_EQ(alone[i].size(), 24u);
    EXPECT_EQ(batched[i], alone[i]) << "request " << i;
    EXPECT_EQ(generate_alone(*model, prompts[i], 24), alone[i]) << "request " << i << " vs the run command's generator";
  }
  const EngineStats s = settled_stats(engine);
  EXPECT_EQ(s.running, 0);
  EXPECT_EQ(s.kv_blocks_used, 0);
}

INSTANTIATE_TEST_SUITE_P(Models, BatchInvariance, ::testing::ValuesIn(batch_models()),
                         [](const auto& info) {
                           std::string n = std::filesystem::path(info.param).stem().string();
                           for (char& c : n) if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

class EngineOnTinyModel : public ::testing::Test {
 protected:
  void SetUp() override {
    device_ = backend::create_device("cpu", {2});
    model_ = model::Model::load(std::string(ANYCHIP_SOURCE_DIR) + "/models/aidreams-260k.gguf", *device_);
  }
  std::unique_ptr<backend::Device> device_;
  std::unique_ptr<model::Model> model_;
};

TEST_F(EngineOnTinyModel, ChunkedPrefillAndPreemptionKeepResultsExact) {
  const auto prompts = make_prompts(*model_, 12);
  const RequestOptions o = greedy(40);
  std::vector<std::vector<int32_t>> expected;
  for (const auto& p : prompts) expected.push_back(generate_alone(*model_, p, 40));

  EngineOptions eo;
  eo.max_seqs = 8;
  eo.ctx_size = 128;
  eo.block_size = 4;
  eo.max_batch_tokens = 8;  // prompts are split over several steps
  // Room for about two whole sequences: eight running ones must preempt each other.
  eo.kv_memory_bytes = 2 * 96 * model_->kv_bytes_per_token();
  ServingEngine engine(*model_, eo);
  const auto got = run_all(engine, prompts, o, true);
  EXPECT_EQ(got, expected);
  const EngineStats s = settled_stats(engine);
  EXPECT_GT(s.preemptions, 0u);
  EXPECT_EQ(s.kv_blocks_used, 0);
  EXPECT_EQ(s.running, 0);
  EXPECT_EQ(s.waiting, 0);
}

TEST_F(EngineOnTinyModel, SharedPrefixIsReusedAndGivesTheSameTokens) {
  EngineOptions eo;
  ServingEngine engine(*model_, eo);
  std::string system = "You are a helpful assistant.";
  for (int i = 0; i < 2; ++i) system += " Always answer kindly and briefly.";
  auto first = model_->tokenizer().encode(system + " Tell me a story.", true, true);
  auto second = model_->tokenizer().encode(system + " Tell me a joke.", true, true);
  const RequestOptions o = greedy(16);
  Reply a, b;
  engine.submit(first, o, a.handler());
  a.wait();
  engine.submit(second, o, b.handler());
  b.wait();
  EXPECT_EQ(a.last.cached_prompt_tokens, 0);
  EXPECT_GE(b.last.cached_prompt_tokens, static_cast<int>(first.size()) - 16 - 8);
  EXPECT_EQ(b.tokens, generate_alone(*model_, second, 16));
  const EngineStats s = settled_stats(engine);
  EXPECT_GT(s.prefix_hit_tokens, 0u);
  EXPECT_EQ(s.prefix_query_tokens, first.size() + second.size());
  EXPECT_GT(s.kv_blocks_cached, 0);
  EXPECT_EQ(s.kv_blocks_used, 0);
}

TEST_F(EngineOnTinyModel, CancelFreesTheSequenceWithinOneStep) {
  EngineOptions eo;
  ServingEngine engine(*model_, eo);
  Reply r;
  auto record = r.handler();
  std::atomic<uint64_t> id{0};
  std::atomic<int> outputs{0};
  // Handlers may cancel; the engine must stop this request at the next step.
  id = engine.submit(make_prompts(*model_, 1)[0], greedy(100), [&](const RequestOutput& out) {
    record(out);
    if (++outputs == 3) {
      while (id == 0) std::this_thread::yield();
      engine.cancel(id);
    }
  });
  r.wait();
  EXPECT_EQ(r.last.finish, FinishReason::Cancelled);
  EXPECT_EQ(r.last.completion_tokens, 3);
  const EngineStats s = settled_stats(engine);
  EXPECT_EQ(s.kv_blocks_used, 0);
  EXPECT_EQ(s.running, 0);
  engine.cancel(id);  // again: ignored
  engine.cancel(987654);
}

TEST_F(EngineOnTinyModel, StopStringsAndEosEndRequests) {
  EngineOptions eo;
  ServingEngine engine(*model_, eo);
  const auto prompt = model_->tokenizer().encode("I dreamed", true, true);
  Reply full;
  engine.submit(prompt, greedy(32), full.handler());
  full.wait();
  ASSERT_GT(full.text.size(), 12u);
  const std::string stop = full.text.substr(8, 4);
  RequestOptions o = greedy(32);
  o.stop = {stop};
  Reply stopped;
  engine.submit(prompt, o, stopped.handler());
  stopped.wait();
  EXPECT_EQ(stopped.last.finish, FinishReason::Stop);
  EXPECT_EQ(stopped.text, full.text.substr(0, full.text.find(stop)));
  EXPECT_EQ(full.last.finish, FinishReason::Length);
  EXPECT_EQ(full.last.completion_tokens, 32);
  EXPECT_EQ(full.last.prompt_tokens, static_cast<int>(prompt.size()));
}

TEST_F(EngineOnTinyModel, InvalidRequestsAreRefusedNamingTheField) {
  EngineOptions eo;
  eo.ctx_size = 64;
  eo.max_queue = 0;
  ServingEngine engine(*model_, eo);
  auto expect_param = [&](std::vector<int32_t> prompt, RequestOptions o, const std::string& param) {
    try {
      engine.submit(std::move(prompt), o, [](const RequestOutput&) {});
      ADD_FAILURE() << "accepted a request that should fail on " << param;
    } catch (const RequestError& e) {
      EXPECT_EQ(e.param(), param) << e.what();
    }
  };
  expect_param({}, greedy(4), "prompt");
  expect_param({1, -3}, greedy(4), "prompt");
  expect_param({1, 2}, greedy(63), "max_tokens");
  expect_param(std::vector<int32_t>(64, 1), greedy(1), "messages");
  expect_param({1, 2}, greedy(0), "max_tokens");
  RequestOptions bad = greedy(4);
  bad.sampling.top_p = 2;
  expect_param({1, 2}, bad, "top_p");
  EXPECT_THROW(engine.submit({1, 2}, greedy(4), [](const RequestOutput&) {}), QueueFullError);
}

TEST_F(EngineOnTinyModel, OptionsThatCannotWorkAreRefused) {
  EngineOptions eo;
  eo.ctx_size = 1 << 30;  // far beyond the model's 128-token training context
  EXPECT_THROW(ServingEngine(*model_, eo), Error);
  eo.ctx_size = 64;
  eo.kv_memory_bytes = 10;
  EXPECT_THROW(ServingEngine(*model_, eo), Error);
  eo.kv_memory_bytes = 0;
  eo.max_seqs = 0;
  EXPECT_THROW(ServingEngine(*model_, eo), Error);
}

}  // namespace
}  // namespace anychip::engine
