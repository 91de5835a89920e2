#include "server/metrics.h"

namespace anychip::server {

namespace {

// Latency buckets in seconds: from a fast decode step on a tiny model to minutes-long requests.
std::vector<double> ttft_buckets() {
  return {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80};
}
std::vector<double> itl_buckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5};
}
std::vector<double> e2e_buckets() {
  return {0.01, 0.05, 0.1, 0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 600};
}

}  // namespace

ServerMetrics::ServerMetrics() : ttft_(ttft_buckets()), itl_(itl_buckets()), e2e_(e2e_buckets()) {}

void ServerMetrics::count_request(int status) {
  std::lock_guard lock(mu_);
  ++requests_by_code_[status];
}

std::string ServerMetrics::render(const std::optional<engine::EngineStats>& stats) const {
  const engine::EngineStats st = stats.value_or(engine::EngineStats{});
  PrometheusWriter w;
  w.header("anychip_http_requests_total", "counter", "HTTP requests answered, by status code.");
  {
    std::lock_guard lock(mu_);
    for (const auto& [code, n] : requests_by_code_) {
      w.sample("anychip_http_requests_total", static_cast<double>(n),
               "code=\"" + prometheus_label_value(std::to_string(code)) + "\"");
    }
  }
  w.scalar("anychip_prompt_tokens_total", "counter", "Prompt tokens processed.", static_cast<double>(st.prompt_tokens));
  w.scalar("anychip_generation_tokens_total", "counter", "Tokens generated.", static_cast<double>(st.generated_tokens));
  w.histogram("anychip_time_to_first_token_seconds", "Time from request arrival to its first generated token.",
              ttft_.snapshot());
  w.histogram("anychip_inter_token_latency_seconds", "Time between successive generated tokens of a request.",
              itl_.snapshot());
  w.histogram("anychip_request_latency_seconds", "Time from request arrival to its last output.", e2e_.snapshot());
  w.scalar("anychip_requests_running", "gauge", "Requests whose sequences hold KV cache.", st.running);
  w.scalar("anychip_requests_waiting", "gauge", "Requests queued (including preempted ones).", st.waiting);
  w.scalar("anychip_kv_blocks_total", "gauge", "KV cache blocks in the pool.", static_cast<double>(st.kv_blocks_total));
  w.scalar("anychip_kv_blocks_used", "gauge", "KV cache blocks held by live sequences.",
           static_cast<double>(st.kv_blocks_used));
  w.scalar("anychip_kv_blocks_cached", "gauge", "Free KV cache blocks still holding reusable prefix KV.",
           static_cast<double>(st.kv_blocks_cached));
  w.scalar("anychip_kv_cache_usage_ratio", "gauge", "Fraction of KV cache blocks held by live sequences.",
           st.kv_blocks_total > 0 ? static_cast<double>(st.kv_blocks_used) / static_cast<double>(st.kv_blocks_total) : 0.0);
  w.scalar("anychip_prefix_cache_queries_total", "counter", "Prompt tokens looked up in the prefix cache.",
           static_cast<double>(st.prefix_query_tokens));
  w.scalar("anychip_prefix_cache_hits_total", "counter", "Prompt tokens found in the prefix cache.",
           static_cast<double>(st.prefix_hit_tokens));
  w.scalar("anychip_prefix_cache_hit_rate", "gauge", "Prefix cache hits over queries since start (tokens).",
           st.prefix_query_tokens > 0
               ? static_cast<double>(st.prefix_hit_tokens) / static_cast<double>(st.prefix_query_tokens)
               : 0.0);
  w.scalar("anychip_preemptions_total", "counter", "Sequences preempted for lack of KV cache blocks.",
           static_cast<double>(st.preemptions));
  w.scalar("anychip_engine_steps_total", "counter", "Engine scheduler steps run.", static_cast<double>(st.steps));
  return w.str();
}

}  // namespace anychip::server
