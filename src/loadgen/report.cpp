#include "loadgen/report.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>

namespace anychip::loadgen {
namespace {

using nlohmann::json;

json summary_json(const std::optional<Summary>& s) {
  if (!s) return nullptr;
  return {{"mean", s->mean}, {"p50", s->p50}, {"p90", s->p90}, {"p99", s->p99}};
}

template <class T>
json optional_json(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

std::string line(const std::string& label, const std::string& value) {
  std::string out = label;
  out.resize(std::max<size_t>(out.size(), 34), ' ');
  return out + " " + value + "\n";
}

std::string num(double v, int decimals = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

void summary_rows(std::ostream& out, const char* title, const char* name, const std::optional<Summary>& s) {
  out << "--- " << title << " (ms) ---\n";
  if (!s) {
    out << line(name, "no samples");
    return;
  }
  const std::string prefix = name;
  out << line(prefix + " mean", num(s->mean));
  out << line(prefix + " p50", num(s->p50));
  out << line(prefix + " p90", num(s->p90));
  out << line(prefix + " p99", num(s->p99));
}

}  // namespace

json metrics_json(const Metrics& m, size_t peak_in_flight, const json& run) {
  return {
      {"config", run},
      {"completed", m.completed},
      {"failed", m.failed},
      {"failure_reasons", m.failure_reasons},
      {"disconnected", m.disconnected},
      {"duration_s", m.duration_s},
      {"total_input_tokens", m.total_input_tokens},
      {"total_output_tokens", m.total_output_tokens},
      {"request_throughput", m.request_throughput},
      {"output_tok_s", m.output_tok_s},
      {"total_tok_s", m.total_tok_s},
      {"ttft_ms", summary_json(m.ttft_ms)},
      {"tpot_ms", summary_json(m.tpot_ms)},
      {"itl_ms", summary_json(m.itl_ms)},
      {"e2e_ms", summary_json(m.e2e_ms)},
      {"good_requests", m.good},
      {"goodput_req_s", optional_json(m.goodput_req_s)},
      {"slo_attainment", optional_json(m.slo_attainment)},
      {"peak_in_flight", peak_in_flight},
  };
}

void print_table(std::ostream& out, const Metrics& m, size_t peak_in_flight) {
  out << "============ anychip loadgen result ============\n";
  out << line("Completed requests", std::to_string(m.completed));
  out << line("Failed requests", std::to_string(m.failed));
  for (const auto& [reason, count] : m.failure_reasons) out << "  " << count << " x " << reason << "\n";
  out << line("Disconnected (by the client)", std::to_string(m.disconnected));
  out << line("Peak requests in flight", std::to_string(peak_in_flight));
  out << line("Duration (s)", num(m.duration_s));
  out << line("Total input tokens", std::to_string(m.total_input_tokens));
  out << line("Total output tokens", std::to_string(m.total_output_tokens));
  out << line("Request throughput (req/s)", num(m.request_throughput));
  out << line("Output token throughput (tok/s)", num(m.output_tok_s));
  out << line("Total token throughput (tok/s)", num(m.total_tok_s));
  if (m.goodput_req_s) out << line("Goodput (req/s)", num(*m.goodput_req_s));
  if (m.slo_attainment) out << line("SLO attainment (%)", num(100.0 * *m.slo_attainment, 1));
  summary_rows(out, "Time to first token", "TTFT", m.ttft_ms);
  summary_rows(out, "Time per output token, excl. 1st", "TPOT", m.tpot_ms);
  summary_rows(out, "Inter-token latency", "ITL", m.itl_ms);
  summary_rows(out, "End-to-end latency", "E2E", m.e2e_ms);
  out << "================================================\n";
}

}  // namespace anychip::loadgen
