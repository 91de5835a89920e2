// The /metrics text must parse as Prometheus exposition format: HELP and TYPE before each family,
// `name{labels} value` samples, cumulative histogram buckets ending in +Inf == _count.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <sstream>

#include "server/metrics.h"

namespace anychip::server {
namespace {

TEST(ServerMetrics, Numbers) {
  EXPECT_EQ(prometheus_number(0), "0");
  EXPECT_EQ(prometheus_number(0.005), "0.005");
  EXPECT_EQ(prometheus_number(12), "12");
  EXPECT_EQ(prometheus_number(1.0 / 0.0), "+Inf");
  EXPECT_EQ(prometheus_number(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(prometheus_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

TEST(ServerMetrics, HistogramIsCumulative) {
  Histogram h({0.1, 1, 10});
  for (double v : {0.05, 0.1, 0.5, 5.0, 50.0}) h.observe(v);
  const Histogram::Snapshot s = h.snapshot();
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{2, 3, 4, 5}));  // 0.1 falls in le="0.1"
  EXPECT_EQ(s.count, 5u);
  EXPECT_DOUBLE_EQ(s.sum, 55.65);
}

TEST(ServerMetrics, ExpositionFormat) {
  ServerMetrics m;
  m.count_request(200);
  m.count_request(200);
  m.count_request(429);
  m.observe_time_to_first_token(0.03);
  m.observe_inter_token_latency(0.004);
  m.observe_request_latency(1.2);
  engine::EngineStats st;
  st.running = 2;
  st.waiting = 1;
  st.kv_blocks_total = 100;
  st.kv_blocks_used = 25;
  st.kv_blocks_cached = 5;
  st.prefix_query_tokens = 200;
  st.prefix_hit_tokens = 50;
  st.prompt_tokens = 300;
  st.generated_tokens = 40;
  st.preemptions = 3;
  const std::string text = m.render(st);

  const std::regex sample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (\S+)$)");
  std::map<std::string, std::string> types;  // family -> type
  std::map<std::string, double> values;      // "name{labels}" -> value
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    ASSERT_FALSE(line.empty());
    if (line.rfind("# HELP ", 0) == 0) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream t(line.substr(7));
      std::string name, type;
      t >> name >> type;
      EXPECT_TRUE(type == "counter" || type == "gauge" || type == "histogram") << line;
      EXPECT_EQ(name.rfind("anychip_", 0), 0u) << line;
      EXPECT_FALSE(types.count(name)) << "family declared twice: " << name;
      types[name] = type;
      continue;
    }
    std::smatch mt;
    ASSERT_TRUE(std::regex_match(line, mt, sample)) << line;
    std::string family = mt[1];
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string sfx = suffix;
      if (!types.count(family) && family.size() > sfx.size() && family.ends_with(sfx)) {
        family = family.substr(0, family.size() - sfx.size());
      }
    }
    ASSERT_TRUE(types.count(family)) << "sample before its TYPE: " << line;
    const size_t space = line.rfind(' ');
    values[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  EXPECT_EQ(types["anychip_http_requests_total"], "counter");
  EXPECT_EQ(values["anychip_http_requests_total{code=\"200\"}"], 2);
  EXPECT_EQ(values["anychip_http_requests_total{code=\"429\"}"], 1);
  EXPECT_EQ(values["anychip_prompt_tokens_total"], 300);
  EXPECT_EQ(values["anychip_generation_tokens_total"], 40);
  EXPECT_EQ(values["anychip_requests_running"], 2);
  EXPECT_EQ(values["anychip_requests_waiting"], 1);
  EXPECT_EQ(values["anychip_kv_blocks_total"], 100);
  EXPECT_EQ(values["anychip_kv_blocks_used"], 25);
  EXPECT_EQ(values["anychip_kv_blocks_cached"], 5);
  EXPECT_EQ(values["anychip_prefix_cache_hits_total"], 50);
  EXPECT_EQ(values["anychip_prefix_cache_queries_total"], 200);
  EXPECT_DOUBLE_EQ(values["anychip_prefix_cache_hit_rate"], 0.25);
  EXPECT_EQ(values["anychip_preemptions_total"], 3);
  for (const char* h : {"anychip_time_to_first_token_seconds", "anychip_inter_token_latency_seconds",
                        "anychip_request_latency_seconds"}) {
    EXPECT_EQ(types[h], "histogram");
    EXPECT_EQ(values[std::string(h) + "_bucket{le=\"+Inf\"}"], 1) << h;
    EXPECT_EQ(values[std::string(h) + "_count"], 1) << h;
  }
  EXPECT_EQ(values["anychip_time_to_first_token_seconds_bucket{le=\"0.02\"}"], 0);
  EXPECT_EQ(values["anychip_time_to_first_token_seconds_bucket{le=\"0.04\"}"], 1);
  EXPECT_DOUBLE_EQ(values["anychip_request_latency_seconds_sum"], 1.2);

  // While loading there are no engine stats: the same series, at zero.
  const std::string loading = ServerMetrics().render(std::nullopt);
  EXPECT_NE(loading.find("anychip_kv_blocks_total 0\n"), std::string::npos);
  EXPECT_NE(loading.find("anychip_prefix_cache_hit_rate 0\n"), std::string::npos);
}

}  // namespace
}  // namespace anychip::server
