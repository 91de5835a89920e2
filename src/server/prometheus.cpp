#include "server/prometheus.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace anychip::server {

Histogram::Histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)) {
  std::sort(bounds_.begin(), bounds_.end());
  counts_.assign(bounds_.size() + 1, 0);
}

void Histogram::observe(double value) {
  // Buckets are "less than or equal": the first bound >= value takes it.
  const size_t i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  std::lock_guard lock(mu_);
  ++counts_[i];
  sum_ += value;
  ++count_;
}

Histogram::Snapshot Histogram::snapshot() const {
  std::lock_guard lock(mu_);
  Snapshot s;
  s.bounds = bounds_;
  uint64_t running = 0;
  for (uint64_t c : counts_) {
    running += c;
    s.cumulative.push_back(running);
  }
  s.sum = sum_;
  s.count = count_;
  return s;
}

std::string prometheus_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string prometheus_label_value(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void PrometheusWriter::header(const std::string& name, const std::string& type, const std::string& help) {
  out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

void PrometheusWriter::sample(const std::string& name, double value, const std::string& labels) {
  out_ << name;
  if (!labels.empty()) out_ << '{' << labels << '}';
  out_ << ' ' << prometheus_number(value) << '\n';
}

void PrometheusWriter::scalar(const std::string& name, const std::string& type, const std::string& help, double value) {
  header(name, type, help);
  sample(name, value);
}

void PrometheusWriter::histogram(const std::string& name, const std::string& help, const Histogram::Snapshot& s) {
  header(name, "histogram", help);
  for (size_t i = 0; i < s.bounds.size(); ++i) {
    sample(name + "_bucket", static_cast<double>(s.cumulative[i]), "le=\"" + prometheus_number(s.bounds[i]) + "\"");
  }
  sample(name + "_bucket", static_cast<double>(s.count), "le=\"+Inf\"");
  sample(name + "_sum", s.sum);
  sample(name + "_count", static_cast<double>(s.count));
}

}  // namespace anychip::server
