#include "router/fleet_config.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "router/fleet_protocol.h"
#include "server/api_error.h"
#include "util/error.h"

namespace anychip::router {
namespace {

struct Line {
  int number = 0;
  int indent = 0;
  std::string text;  // without indentation and comment
};

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::vector<Line> meaningful_lines(const std::string& text, const std::string& file) {
  std::vector<Line> out;
  std::istringstream in(text);
  std::string raw;
  int number = 0;
  while (std::getline(in, raw)) {
    ++number;
    // A comment starts at '#' at the line's start or after a space (URLs may hold '#' otherwise).
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '#' && (i == 0 || raw[i - 1] == ' ' || raw[i - 1] == '\t')) {
        raw.resize(i);
        break;
      }
    }
    if (raw.find('\t') != std::string::npos && raw.find_first_not_of(" \t") > raw.find('\t')) {
      throw Error(file + ":" + std::to_string(number) + ": indent with spaces, not tabs");
    }
    const std::string t = trim(raw);
    if (t.empty() || t == "---") continue;
    out.push_back({number, static_cast<int>(raw.find_first_not_of(' ')), t});
  }
  return out;
}

// "key: value" -> (key, value); value may be empty ("workers:").
std::pair<std::string, std::string> key_value(const Line& l, const std::string& file) {
  const size_t colon = l.text.find(':');
  if (colon == std::string::npos || colon == 0) {
    throw Error(file + ":" + std::to_string(l.number) + ": expected 'key: value', got '" + l.text + "'");
  }
  std::string value = trim(l.text.substr(colon + 1));
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
    value = value.substr(1, value.size() - 2);
  } else if (!value.empty() && std::string("[{&*|>!").find(value.front()) != std::string::npos) {
    throw Error(file + ":" + std::to_string(l.number) + ": only plain scalar values are supported here");
  }
  return {trim(l.text.substr(0, colon)), value};
}

double number(const std::string& v, const Line& l, const std::string& file, const std::string& key) {
  double out = 0;
  const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size()) {
    throw Error(file + ":" + std::to_string(l.number) + ": '" + key + "' must be a number, got '" + v + "'");
  }
  return out;
}

}  // namespace

FleetConfig parse_fleet_config(const std::string& text, const std::string& file, const std::string& base_dir) {
  FleetConfig cfg;
  const std::vector<Line> lines = meaningful_lines(text, file);
  const auto fail = [&](const Line& l, const std::string& why) {
    return Error(file + ":" + std::to_string(l.number) + ": " + why);
  };
  bool in_workers = false;
  WorkerReport* current = nullptr;  // the worker map being filled
  int item_indent = -1;
  for (const Line& l : lines) {
    if (l.indent == 0) {
      in_workers = false;
      current = nullptr;
      const auto [key, value] = key_value(l, file);
      if (key == "workers") {
        if (!value.empty()) throw fail(l, "'workers:' takes a list on the following lines ('- http://HOST:PORT')");
        in_workers = true;
      } else if (value.empty()) {
        throw fail(l, "'" + key + "' needs a value");
      } else if (key == "policy") {
        cfg.policy = value;
      } else if (key == "host") {
        cfg.host = value;
      } else if (key == "port") {
        const double p = number(value, l, file, key);
        if (p < 0 || p > 65535 || p != static_cast<int>(p)) throw fail(l, "'port' must be 0..65535");
        cfg.port = static_cast<int>(p);
      } else if (key == "slo_ttft_ms") {
        cfg.slo_ttft_ms = number(value, l, file, key);
      } else if (key == "slo_tpot_ms") {
        cfg.slo_tpot_ms = number(value, l, file, key);
      } else {
        throw fail(l, "unknown key '" + key + "' (policy, host, port, slo_ttft_ms, slo_tpot_ms, workers)");
      }
      continue;
    }
    if (!in_workers) throw fail(l, "unexpected indentation");
    std::string entry = l.text;
    if (entry.rfind("- ", 0) == 0 || entry == "-") {
      item_indent = l.indent;
      entry = trim(entry.substr(1));
      cfg.workers.emplace_back();
      current = &cfg.workers.back();
      if (entry.empty()) throw fail(l, "empty worker entry");
      // "- http://..." (a bare URL; its "://" is not a key's colon) or "- url: ...".
      if (entry.find("://") != std::string::npos && entry.rfind("url:", 0) != 0) {
        current->url = entry;
        current = nullptr;  // nothing more may follow a bare URL
        continue;
      }
    } else if (!current || l.indent <= item_indent) {
      throw fail(l, "expected a worker entry ('- http://HOST:PORT' or '- url: ...')");
    }
    const auto [key, value] = key_value(Line{l.number, l.indent, entry}, file);
    if (key == "url") {
      current->url = value;
    } else if (key == "price_per_hour") {
      current->price_per_hour = number(value, l, file, key);
      if (current->price_per_hour < 0) throw fail(l, "'price_per_hour' must be >= 0");
    } else if (key == "profile_json") {
      std::filesystem::path p(value);
      if (p.is_relative()) p = std::filesystem::path(base_dir) / p;
      std::ifstream in(p);
      if (!in) throw fail(l, "cannot read the profile " + p.string());
      std::stringstream ss;
      ss << in.rdbuf();
      nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, false);
      if (j.is_object() && j.contains("profile")) j = j["profile"];
      try {
        current->profile = parse_profile(j);
      } catch (const server::ApiError& e) {
        throw fail(l, p.string() + ": " + e.what());
      }
      if (!current->profile.has) throw fail(l, p.string() + " is not `anychip bench --batch ... --json` output");
    } else {
      throw fail(l, "unknown worker key '" + key + "' (url, price_per_hour, profile_json)");
    }
  }
  for (WorkerReport& w : cfg.workers) {
    if (w.url.empty()) throw Error(file + ": a worker has no url");
    try {
      w.url = normalize_worker_url(w.url);
    } catch (const Error& e) {
      throw Error(file + ": " + e.what());
    }
  }
  return cfg;
}

FleetConfig load_fleet_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read the fleet config " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_fleet_config(ss.str(), path, std::filesystem::path(path).parent_path().string());
}

}  // namespace anychip::router
