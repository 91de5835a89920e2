#pragma once
// Prometheus text exposition (0.0.4) pieces that need no engine: a fixed-bucket histogram,
// number and label escaping, and a writer. `anychip serve` and `anychip route` both use them.
#include <cstdint>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace anychip::server {

// A cumulative histogram with fixed upper bounds (the +Inf bucket is implicit).
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  mutable std::mutex mu_;
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket (not cumulative), last is +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

// Prometheus number syntax: shortest round-trip decimal, +Inf, -Inf, NaN.
std::string prometheus_number(double v);
// Escapes a label value (backslash, double quote, newline).
std::string prometheus_label_value(const std::string& v);

class PrometheusWriter {
 public:
  void header(const std::string& name, const std::string& type, const std::string& help);
  // labels: already formatted, e.g. `code="200"` (empty: none).
  void sample(const std::string& name, double value, const std::string& labels = "");
  void scalar(const std::string& name, const std::string& type, const std::string& help, double value);
  void histogram(const std::string& name, const std::string& help, const Histogram::Snapshot& s);
  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

}  // namespace anychip::server
