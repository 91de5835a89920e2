// The CLI on good and hostile input: every refusal is a one-line "error: ..." with exit code 1
// (2 for bad flags), never a crash, hang or huge allocation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <nlohmann/json.hpp>

#include "support/gguf_edit.h"
#include "support/run_command.h"

namespace anychip {
namespace {

namespace fs = std::filesystem;
using testing::run_anychip;

const fs::path kShared = ANYCHIP_SHARED_DIR;
const fs::path kDemo = kShared / "models/aidreams-260k.gguf";

std::vector<uint8_t> read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
void write_bytes(const fs::path& p, const std::vector<uint8_t>& b) {
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}
// Offset of the tensor-info record of `name` (its length prefix) in a GGUF image.
size_t tensor_info_offset(const std::vector<uint8_t>& b, const std::string& name) {
  for (size_t i = 8; i + name.size() < b.size(); ++i) {
    uint64_t len;
    std::memcpy(&len, &b[i], 8);
    if (len == name.size() && std::memcmp(&b[i + 8], name.data(), name.size()) == 0) return i;
  }
  ADD_FAILURE() << "tensor " << name << " not found";
  return 0;
}
template <class T>
void poke(std::vector<uint8_t>& b, size_t at, T v) {
  std::memcpy(&b[at], &v, sizeof v);
}

class HostileFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("anychip_cli_test_" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path edited(const std::string& name, const testing::GgufEdit& edit) {
    const fs::path p = dir_ / name;
    testing::rewrite_gguf(kDemo, p, edit);
    return p;
  }
  fs::path patched(const std::string& name, const std::function<void(std::vector<uint8_t>&)>& patch) {
    std::vector<uint8_t> b = read_bytes(kDemo);
    patch(b);
    const fs::path p = dir_ / name;
    write_bytes(p, b);
    return p;
  }
  // run, info and tokenize must each refuse with exit 1 and a one-line message.
  void expect_refused(const fs::path& file, const std::string& must_mention = "") {
    const std::vector<std::vector<std::string>> commands = {
        {"run", "-m", file.string(), "-p", "hello", "-n", "2"},
        {"info", file.string()},
        {"tokenize", "-m", file.string(), "hello"},
    };
    for (const auto& args : commands) {
      const auto r = run_anychip(args);
      EXPECT_EQ(r.signal, 0) << args[0] << " crashed on " << file;
      EXPECT_EQ(r.exit_code, 1) << args[0] << " on " << file << ": " << r.err;
      EXPECT_TRUE(r.err.starts_with("error: ")) << r.err;
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "not one line: " << r.err;
      if (!must_mention.empty()) {
        EXPECT_NE(r.err.find(must_mention), std::string::npos) << r.err;
      }
    }
  }
  fs::path dir_;
};

TEST_F(HostileFiles, MissingFile) { expect_refused(dir_ / "nope.gguf", "nope.gguf"); }

TEST_F(HostileFiles, WrongMagic) {
  expect_refused(patched("magic.gguf", [](auto& b) { b[0] = 'X'; }));
}

TEST_F(HostileFiles, WrongVersion) {
  expect_refused(patched("v1.gguf", [](auto& b) { poke<uint32_t>(b, 4, 1); }));
  expect_refused(patched("v999.gguf", [](auto& b) { poke<uint32_t>(b, 4, 999); }), "999");
}

TEST_F(HostileFiles, Truncated) {
  for (size_t keep : {3ul, 20ul, 100ul, 5000ul, 500000ul}) {
    expect_refused(patched("trunc" + std::to_string(keep) + ".gguf", [keep](auto& b) { b.resize(keep); }));
  }
  expect_refused(patched("trunc_tail.gguf", [](auto& b) { b.resize(b.size() - 7); }));
}

TEST_F(HostileFiles, HugeCounts) {
  expect_refused(patched("tensors.gguf", [](auto& b) { poke<uint64_t>(b, 8, uint64_t{1} << 62); }));
  expect_refused(patched("kvs.gguf", [](auto& b) { poke<uint64_t>(b, 16, uint64_t{1} << 62); }));
  expect_refused(patched("keylen.gguf", [](auto& b) { poke<uint64_t>(b, 24, uint64_t{1} << 62); }));
}

TEST_F(HostileFiles, AbsurdHyperparameters) {
  expect_refused(edited("heads0.gguf", {.metadata = [](auto& w) { w.set_u32("llama.attention.head_count", 0); }}),
                 "head_count");
  expect_refused(edited("layers.gguf", {.metadata = [](auto& w) { w.set_u32("llama.block_count", 3000000); }}),
                 "block_count");
  expect_refused(edited("kvheads.gguf", {.metadata = [](auto& w) { w.set_u32("llama.attention.head_count_kv", 3); }}));
  expect_refused(edited("embd.gguf", {.metadata = [](auto& w) { w.set_u64("llama.embedding_length", uint64_t{1} << 40); }}),
                 "embedding_length");
  expect_refused(edited("arch.gguf", {.metadata = [](auto& w) { w.set_string("general.architecture", "gpt-17"); }}),
                 "gpt-17");
}

TEST_F(HostileFiles, WrongKeyTypes) {
  expect_refused(edited("tokens_f32.gguf", {.metadata = [](auto& w) { w.set_f32_array("tokenizer.ggml.tokens", {1.0f, 2.0f}); }}),
                 "tokenizer.ggml.tokens");
  expect_refused(edited("heads_str.gguf", {.metadata = [](auto& w) { w.set_string("llama.attention.head_count", "four"); }}),
                 "head_count");
}

TEST_F(HostileFiles, TokenIdsOutOfRange) {
  expect_refused(edited("bos.gguf", {.metadata = [](auto& w) { w.set_u32("tokenizer.ggml.bos_token_id", 99999); }}),
                 "99999");
  expect_refused(edited("eos.gguf", {.metadata = [](auto& w) { w.set_i32("tokenizer.ggml.eos_token_id", -5); }}));
}

TEST_F(HostileFiles, BadTensors) {
  expect_refused(edited("missing.gguf", {.keep_tensor = [](const auto& t) { return t.name != "blk.0.attn_k.weight"; }}),
                 "blk.0.attn_k.weight");
  expect_refused(patched("dup.gguf", [](auto& b) {
    const size_t at = tensor_info_offset(b, "blk.0.attn_k.weight");
    b[at + 8 + std::strlen("blk.0.attn_")] = 'q';
  }));
  expect_refused(patched("type.gguf", [](auto& b) {
    const size_t at = tensor_info_offset(b, "blk.0.attn_k.weight") + 8 + 19;
    const uint32_t n_dims = b[at];
    poke<uint32_t>(b, at + 4 + 8 * n_dims, 77);
  }), "77");
  expect_refused(patched("dims.gguf", [](auto& b) {
    const size_t at = tensor_info_offset(b, "blk.0.attn_k.weight") + 8 + 19;
    poke<int64_t>(b, at + 4, int64_t{1} << 40);
    poke<int64_t>(b, at + 12, int64_t{1} << 40);
  }));
  expect_refused(patched("offset.gguf", [](auto& b) {
    const size_t at = tensor_info_offset(b, "blk.0.attn_k.weight") + 8 + 19;
    const uint32_t n_dims = b[at];
    uint64_t off;
    std::memcpy(&off, &b[at + 4 + 8 * n_dims + 4], 8);
    poke<uint64_t>(b, at + 4 + 8 * n_dims + 4, off + 1);
  }));
  expect_refused(patched("past_end.gguf", [](auto& b) {
    const size_t at = tensor_info_offset(b, "blk.0.attn_k.weight") + 8 + 19;
    const uint32_t n_dims = b[at];
    poke<uint64_t>(b, at + 4 + 8 * n_dims + 4, uint64_t{1} << 40);
  }));
  expect_refused(edited("shape.gguf", {.tensor = [](gguf::TensorInfo& t, std::vector<uint8_t>&) {
                   if (t.name == "blk.1.ffn_up.weight") std::swap(t.dims[0], t.dims[1]);
                 }}), "blk.1.ffn_up.weight");
}

TEST(CliFlags, BadFlagsExitTwo) {
  const std::vector<std::vector<std::string>> cases = {
      {"run"},
      {"run", "-m", kDemo.string(), "-n", "abc"},
      {"run", "-m", kDemo.string(), "--no-such-flag"},
      {"run", "-m", kDemo.string(), "--temp", "-1"},
      {"frobnicate"},
      {},
      {"tokenize", "-m", kDemo.string()},
  };
  for (const auto& args : cases) {
    const auto r = run_anychip(args);
    EXPECT_EQ(r.exit_code, 2) << (args.empty() ? "" : args[0]) << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

TEST(CliFlags, HelpEverywhere) {
  for (std::string sub : {"", "run", "info", "tokenize", "synth"}) {
    const auto r = sub.empty() ? run_anychip({"--help"}) : run_anychip({sub, "--help"});
    EXPECT_EQ(r.exit_code, 0) << sub;
    const std::string usage = sub.empty() ? "Usage:" : " " + sub + " [OPTIONS]";
    EXPECT_NE(r.out.find(usage), std::string::npos) << sub << ": " << r.out;
  }
}

TEST(CliRun, DemoMatchesLlamaCppText) {
  // llama.cpp's greedy continuation of "I dreamed" (../shared/models/README.md).
  const auto r = run_anychip({"run", "-m", kDemo.string(), "-p", "I dreamed", "-n", "32", "--temp", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with(" I dreamed, as I sense the nodes, a gentle hum of probability.")) << r.out;
}

TEST(CliRun, JsonGeneratesExactlyN) {
  const auto r = run_anychip({"run", "-m", kDemo.string(), "-p", "Once upon a time", "-n", "40", "--temp", "0", "--json", "--logits"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ids"].size(), 40u);
  EXPECT_EQ(j["logits"].size(), 41u);
  EXPECT_EQ(j["logits"][0].size(), 512u);
  EXPECT_EQ(j["prompt_ids"][0], 1);
}

TEST(CliRun, SeedReproducibleAndSamplingVaries) {
  auto sample = [](const std::string& seed) {
    const auto r = run_anychip({"run", "-m", kDemo.string(), "-p", "I dreamed", "-n", "24", "--temp", "1.0",
                                "--seed", seed, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out)["ids"];
  };
  EXPECT_EQ(sample("7"), sample("7"));
  EXPECT_NE(sample("7"), sample("8"));
}

TEST(CliRun, ContextOverflowIsAnError) {
  const auto r = run_anychip({"run", "-m", kDemo.string(), "-p", "I dreamed", "-n", "500", "--json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("context"), std::string::npos) << r.err;
}

TEST(CliTokenize, JsonIds) {
  const auto r = run_anychip({"tokenize", "-m", kDemo.string(), "--json", "I dreamed"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out), nlohmann::json::parse("[1, 303, 281, 269, 435, 447, 328]"));
  const auto nobos = run_anychip({"tokenize", "-m", kDemo.string(), "--json", "--no-bos", "I dreamed"});
  EXPECT_EQ(nlohmann::json::parse(nobos.out), nlohmann::json::parse("[303, 281, 269, 435, 447, 328]"));
}

TEST(CliInfo, DescribesDemoModel) {
  const auto r = run_anychip({"info", kDemo.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("architecture:  llama"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("263744"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace anychip

namespace anychip {
namespace {

TEST(CliBench, JsonReportsSpeedsAndRoofline) {
  const auto r = testing::run_anychip({"bench", "-m", kDemo.string(), "-t", "1", "-p", "8", "-n", "4", "-r", "1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"pp_tok_s", "tg_tok_s", "gen_bandwidth_gbs", "machine_bandwidth_gbs", "roofline_frac"}) {
    ASSERT_TRUE(j.contains(key)) << key;
    EXPECT_GT(j[key].get<double>(), 0.0) << key;
  }
  // Weights read per generated token: every matrix and norm once plus one f32 embedding row.
  EXPECT_EQ(j["weight_bytes_per_token"].get<double>(), 924160.0);
  // The demo model fits in cache, so its roofline fraction can exceed 1: only its definition
  // is checked here; speeds are measured by benchmarks, not asserted in tests.
  EXPECT_NEAR(j["roofline_frac"].get<double>(),
              j["gen_bandwidth_gbs"].get<double>() / j["machine_bandwidth_gbs"].get<double>(), 1e-9);
}

// Each measured run is judged against the bandwidth probed next to it; the reported figures are
// the medians (of three runs: the middle values).
TEST(CliBench, JsonJudgesEachRunAgainstItsOwnProbe) {
  const auto r = testing::run_anychip({"bench", "-m", kDemo.string(), "-t", "1", "-p", "8", "-n", "4", "-r", "3", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const auto tg = j["tg_runs"].get<std::vector<double>>();
  const auto probes = j["probe_runs_gbs"].get<std::vector<double>>();
  const auto fracs = j["roofline_runs"].get<std::vector<double>>();
  ASSERT_EQ(tg.size(), 3u);
  ASSERT_EQ(probes.size(), 3u);
  ASSERT_EQ(fracs.size(), 3u);
  const double bytes = j["weight_bytes_per_token"].get<double>();
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_GT(probes[i], 0.0);
    EXPECT_NEAR(fracs[i], bytes * tg[i] / 1e9 / probes[i], 1e-9 * fracs[i]) << "run " << i;
  }
  const auto middle = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[1];
  };
  EXPECT_EQ(j["machine_bandwidth_gbs"].get<double>(), middle(probes));
  EXPECT_EQ(j["roofline_frac"].get<double>(), middle(fracs));
}

// --profile: every op of the measured generation runs, counted and timed. The demo model has 4
// layers; each generated token runs per layer 2 norms, 2 grouped and 2 single matmuls, 2 ropes,
// 2 cache stores, attention, swiglu and 2 adds, then the output's row pick, norm and matmul.
// Matmul lines are split by shape and say how many weight bytes they read.
TEST(CliBench, ProfileCountsEveryOpOfGeneration) {
  const auto r = testing::run_anychip(
      {"bench", "-m", kDemo.string(), "-t", "1", "-p", "8", "-n", "5", "-r", "2", "--profile", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.contains("generation_profile")) << r.out;
  std::map<std::string, int64_t> calls;
  double share = 0;
  for (const auto& e : j["generation_profile"]) {
    // "matmul f32" or, where this CPU's kernels pack the weights at load, "matmul f32 packed".
    std::string op = e["op"].get<std::string>();
    if (op.ends_with(" packed")) op.resize(op.size() - std::strlen(" packed"));
    calls[op] += e["calls"].get<int64_t>();
    EXPECT_GE(e["seconds"].get<double>(), 0.0) << e.dump();
    share += e["share"].get<double>();
    // Matmuls name their matrices' shapes and count the bytes they read: f32, 4 per element.
    ASSERT_EQ(e.contains("shape"), op.starts_with("matmul")) << e.dump();
    if (!e.contains("shape")) continue;
    int64_t elements = 0;
    std::stringstream shapes(e["shape"].get<std::string>());
    for (std::string part; std::getline(shapes, part, '+');) {
      const size_t x = part.find('x');
      ASSERT_NE(x, std::string::npos) << e.dump();
      elements += std::stoll(part.substr(0, x)) * std::stoll(part.substr(x + 1));
    }
    EXPECT_GT(elements, 0) << e.dump();
    EXPECT_DOUBLE_EQ(e["weight_bytes"].get<double>(), 4.0 * static_cast<double>(elements * e["calls"].get<int64_t>()))
        << e.dump();
    EXPECT_DOUBLE_EQ(e["weight_gbs"].get<double>(), e["weight_bytes"].get<double>() / e["seconds"].get<double>() / 1e9);
  }
  const int64_t tokens = 5 * 2;  // measured runs only: the warm-up is left out
  const std::map<std::string, int64_t> per_token = {
      {"rms_norm", 2 * 4 + 1}, {"matmul_same_input f32 f32 f32", 4}, {"matmul_same_input f32 f32", 4},
      {"matmul f32", 2 * 4 + 1}, {"rope_and_store", 4}, {"attention", 4},
      {"swiglu", 4}, {"add", 2 * 4}, {"get_rows", 2}, {"argmax_rows", 1}};
  for (const auto& [op, n] : per_token) EXPECT_EQ(calls[op], n * tokens) << op;
  EXPECT_TRUE(calls.contains("(between ops)"));
  EXPECT_EQ(calls.size(), per_token.size() + 1) << r.out;
  EXPECT_NEAR(share, 1.0, 1e-9);
}

// With --batch every forward pass of the serving engine is timed: each op in its per-layer count.
TEST(CliBench, ProfileWithBatchTimesEveryForwardPass) {
  const auto r = testing::run_anychip(
      {"bench", "-m", kDemo.string(), "-t", "1", "-p", "8", "-n", "4", "-r", "1", "--batch", "1,3", "--profile", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j["op_profile"].is_array()) << r.out;
  std::map<std::string, int64_t> calls;
  double share = 0;
  for (const auto& e : j["op_profile"]) {
    calls[e["op"].get<std::string>()] = e["calls"].get<int64_t>();
    share += e["share"].get<double>();
  }
  const int64_t passes = calls["swiglu"] / 4;  // the demo model has 4 layers
  ASSERT_GT(passes, 0) << r.out;
  EXPECT_EQ(calls["swiglu"], 4 * passes);
  EXPECT_EQ(calls["rms_norm"], (2 * 4 + 1) * passes);
  EXPECT_EQ(calls["rope_and_store"], 4 * passes);
  EXPECT_EQ(calls["add"], 2 * 4 * passes);
  EXPECT_TRUE(calls.contains("(between ops)"));
  EXPECT_NEAR(share, 1.0, 1e-9);
}

TEST(CliFleet, BadRouterAndEtcdValuesAreNamedAndRefused) {
  const struct {
    std::vector<std::string> args;
    std::string named;
  } cases[] = {
      {{"serve", "-m", kDemo.string(), "--port", "0", "--join", "router:8080"}, "'router:8080'"},
      {{"route", "--port", "0", "--etcd", "etcd:2379"}, "'etcd:2379'"},
      {{"route", "--port", "0", "--etcd", "http://127.0.0.1:1", "--etcd-prefix", "/"}, "'/'"},
  };
  for (const auto& c : cases) {
    const auto r = run_anychip(c.args);
    EXPECT_EQ(r.exit_code, 1) << c.args[0] << ": " << r.err;
    EXPECT_NE(r.err.find(c.named), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace anychip
