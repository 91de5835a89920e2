#include "loadgen/metrics.h"

namespace anychip::loadgen {

Metrics compute_metrics(const std::vector<RequestOutcome>& outcomes, double duration_s, const Slo& slo) {
  Metrics m;
  m.duration_s = duration_s;
  std::vector<double> ttft, tpot, itl, e2e;
  for (const RequestOutcome& o : outcomes) {
    if (o.status == Status::disconnected) {
      ++m.disconnected;
      continue;
    }
    if (o.status == Status::failed) {
      ++m.failed;
      ++m.failure_reasons[o.error];
      continue;
    }
    ++m.completed;
    m.total_input_tokens += o.prompt_tokens;
    m.total_output_tokens += o.output_tokens;
    const double ttft_ms = o.ttft * 1e3, e2e_ms = o.e2e * 1e3;
    double tpot_ms = 0;
    if (o.output_tokens > 1) {
      tpot_ms = (e2e_ms - ttft_ms) / (o.output_tokens - 1);
      tpot.push_back(tpot_ms);
    }
    ttft.push_back(ttft_ms);
    e2e.push_back(e2e_ms);
    for (double gap : o.itl) itl.push_back(gap * 1e3);
    const bool good = (!slo.ttft_ms || ttft_ms <= *slo.ttft_ms) && (!slo.tpot_ms || tpot_ms <= *slo.tpot_ms) &&
                      (!slo.e2e_ms || e2e_ms <= *slo.e2e_ms);
    if (good) ++m.good;
  }
  if (duration_s > 0) {
    m.request_throughput = static_cast<double>(m.completed) / duration_s;
    m.output_tok_s = static_cast<double>(m.total_output_tokens) / duration_s;
    m.total_tok_s = static_cast<double>(m.total_input_tokens + m.total_output_tokens) / duration_s;
  }
  m.ttft_ms = summarize(std::move(ttft));
  m.tpot_ms = summarize(std::move(tpot));
  m.itl_ms = summarize(std::move(itl));
  m.e2e_ms = summarize(std::move(e2e));
  if (slo.any()) {
    m.goodput_req_s = duration_s > 0 ? static_cast<double>(m.good) / duration_s : 0.0;
    const size_t judged = m.completed + m.failed;
    if (judged > 0) m.slo_attainment = static_cast<double>(m.good) / static_cast<double>(judged);
  }
  return m;
}

}  // namespace anychip::loadgen
