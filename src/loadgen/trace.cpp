#include "loadgen/trace.h"

#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/error.h"

namespace anychip::loadgen {
namespace {

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split_commas(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  for (std::string cell; std::getline(ss, cell, ',');) out.push_back(trim(cell));
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

bool parse_int(const std::string& s, int& v) {
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, v);
  return ec == std::errc() && p == end && !s.empty();
}

// Digits only, exactly `width` of them: rejects signs and spaces that from_chars would not.
bool fixed_digits(const std::string& s, size_t at, size_t width, int& v) {
  if (at + width > s.size()) return false;
  v = 0;
  for (size_t i = at; i < at + width; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

bool parse_trace_timestamp(const std::string& text, double& seconds) {
  int y, mo, d, h, mi, sec;
  if (text.size() < 19 || text[4] != '-' || text[7] != '-' || text[10] != ' ' || text[13] != ':' || text[16] != ':')
    return false;
  if (!fixed_digits(text, 0, 4, y) || !fixed_digits(text, 5, 2, mo) || !fixed_digits(text, 8, 2, d) ||
      !fixed_digits(text, 11, 2, h) || !fixed_digits(text, 14, 2, mi) || !fixed_digits(text, 17, 2, sec))
    return false;
  using namespace std::chrono;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return false;
  double frac = 0;
  if (text.size() > 19) {
    if (text[19] != '.' || text.size() == 20) return false;
    double scale = 0.1;
    for (size_t i = 20; i < text.size(); ++i, scale /= 10) {
      if (text[i] < '0' || text[i] > '9') return false;
      frac += (text[i] - '0') * scale;
    }
  }
  const auto days = sys_days{ymd}.time_since_epoch().count();
  seconds = static_cast<double>(days) * 86400.0 + h * 3600.0 + mi * 60.0 + sec + frac;
  return true;
}

std::vector<TraceRequest> read_azure_trace(const std::string& path, size_t limit, double time_scale) {
  if (std::filesystem::is_directory(path)) throw Error("trace '" + path + "' is a directory, not a CSV file");
  std::ifstream in(path);
  if (!in) throw Error("cannot open trace file '" + path + "'");
  auto fail = [&](size_t line_no, const std::string& what) -> Error {
    return Error("trace '" + path + "' line " + std::to_string(line_no) + ": " + what);
  };
  std::string line;
  if (!std::getline(in, line)) throw Error("trace '" + path + "' is empty (expected a TIMESTAMP,ContextTokens,GeneratedTokens header)");
  // Columns are found by name so a trace with the columns in another order still reads.
  const std::vector<std::string> header = split_commas(line);
  int col_ts = -1, col_ctx = -1, col_gen = -1;
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == "TIMESTAMP") col_ts = static_cast<int>(i);
    if (header[i] == "ContextTokens") col_ctx = static_cast<int>(i);
    if (header[i] == "GeneratedTokens") col_gen = static_cast<int>(i);
  }
  if (col_ts < 0 || col_ctx < 0 || col_gen < 0)
    throw fail(1, "header '" + trim(line) + "' lacks TIMESTAMP, ContextTokens or GeneratedTokens");

  std::vector<TraceRequest> out;
  double first = 0;
  for (size_t line_no = 2; (limit == 0 || out.size() < limit) && std::getline(in, line); ++line_no) {
    if (trim(line).empty()) continue;
    const std::vector<std::string> cells = split_commas(line);
    if (cells.size() != header.size())
      throw fail(line_no, "expected " + std::to_string(header.size()) + " columns, found " + std::to_string(cells.size()));
    double ts;
    if (!parse_trace_timestamp(cells[col_ts], ts)) throw fail(line_no, "bad TIMESTAMP '" + cells[col_ts] + "'");
    TraceRequest r;
    if (!parse_int(cells[col_ctx], r.prompt_tokens) || r.prompt_tokens < 0)
      throw fail(line_no, "ContextTokens '" + cells[col_ctx] + "' is not a non-negative integer");
    if (!parse_int(cells[col_gen], r.gen_tokens) || r.gen_tokens < 0)
      throw fail(line_no, "GeneratedTokens '" + cells[col_gen] + "' is not a non-negative integer");
    if (out.empty()) first = ts;
    if (ts < first) throw fail(line_no, "TIMESTAMP '" + cells[col_ts] + "' is before the first row's");
    r.arrival_s = (ts - first) / time_scale;
    out.push_back(r);
  }
  if (in.bad()) throw Error("cannot read trace file '" + path + "'");
  if (out.empty()) throw Error("trace '" + path + "' has no requests");
  return out;
}

}  // namespace anychip::loadgen
