// The --config fleet file: the YAML subset it accepts and the line-numbered errors it gives.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "router/fleet_config.h"
#include "util/error.h"

using namespace anychip::router;

namespace {

std::string error_of(const std::string& text) {
  try {
    parse_fleet_config(text, "fleet.yaml", ".");
  } catch (const anychip::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(RouterConfig, ParsesTheSubset) {
  const auto dir = std::filesystem::temp_directory_path() / "anychip-router-config-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "big.json") << R"({"profile":[{"batch":1,"prefill_tok_s":100,"decode_tok_s":10},{"batch":8,"prefill_tok_s":200,"decode_tok_s":60}]})";
  const FleetConfig cfg = parse_fleet_config(R"(# a fleet
---
policy: least-load
port: 9000
slo_ttft_ms: 500   # tight
workers:
  - http://10.0.0.5:8080/
  - url: "http://10.0.0.6:8080"
    price_per_hour: 0.4
    profile_json: big.json
  -   url: http://h:1
)", "fleet.yaml", dir.string());
  EXPECT_EQ(cfg.policy, "least-load");
  EXPECT_EQ(cfg.port, 9000);
  EXPECT_EQ(cfg.slo_ttft_ms, 500);
  EXPECT_FALSE(cfg.slo_tpot_ms);
  ASSERT_EQ(cfg.workers.size(), 3u);
  EXPECT_EQ(cfg.workers[0].url, "http://10.0.0.5:8080");
  EXPECT_EQ(cfg.workers[1].url, "http://10.0.0.6:8080");
  EXPECT_EQ(cfg.workers[1].price_per_hour, 0.4);
  EXPECT_TRUE(cfg.workers[1].profile.has);
  EXPECT_EQ(cfg.workers[1].profile.max_batch, 8);
  EXPECT_EQ(cfg.workers[2].url, "http://h:1");
  std::filesystem::remove_all(dir);
}

TEST(RouterConfig, RefusesWhatItDoesNotUnderstandWithTheLine) {
  EXPECT_EQ(error_of("polcy: x\n"), "fleet.yaml:1: unknown key 'polcy' (policy, host, port, slo_ttft_ms, slo_tpot_ms, workers)");
  EXPECT_NE(error_of("port: eighty\n").find("fleet.yaml:1: 'port' must be a number"), std::string::npos);
  EXPECT_NE(error_of("workers: [a, b]\n").find("fleet.yaml:1:"), std::string::npos);
  EXPECT_NE(error_of("workers:\n  - url: http://a:1\n    weight: 3\n").find("fleet.yaml:3: unknown worker key 'weight'"),
            std::string::npos);
  EXPECT_NE(error_of("workers:\n  - ftp://a\n").find("bad worker URL"), std::string::npos);
  EXPECT_NE(error_of("workers:\n  - url: http://a:1\n    profile_json: /nonexistent.json\n").find("fleet.yaml:3: cannot read"),
            std::string::npos);
  EXPECT_NE(error_of("  port: 1\n").find("fleet.yaml:1: unexpected indentation"), std::string::npos);
  EXPECT_NE(error_of("workers:\n  - price_per_hour: 1\n").find("a worker has no url"), std::string::npos);
  EXPECT_NE(error_of("policy: &a x\n").find("only plain scalar"), std::string::npos);
  EXPECT_EQ(error_of(""), "");  // an empty file is an empty fleet
}
