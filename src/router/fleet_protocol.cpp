#include "router/fleet_protocol.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "server/api_error.h"
#include "util/error.h"

namespace anychip::router {
namespace {

using json = nlohmann::json;
using server::bad_param;

json parse_object(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (!j.is_object()) throw server::ApiError(400, "The body must be a JSON object.");
  return j;
}

double number(const json& j, const char* key, double fallback, double lo, double hi) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_number()) throw bad_param(key, std::string("'") + key + "' must be a number");
  const double v = j[key].get<double>();
  if (!(v >= lo && v <= hi)) throw bad_param(key, std::string("'") + key + "' is out of range");
  return v;
}

std::string url_of(const json& j) {
  if (!j.contains("url") || !j["url"].is_string()) throw bad_param("url", "'url' must be the worker's http://HOST:PORT");
  try {
    return normalize_worker_url(j["url"].get<std::string>());
  } catch (const Error& e) {
    throw bad_param("url", e.what());
  }
}

LiveLoad load_of(const json& j) {
  LiveLoad load;
  load.running = static_cast<int>(number(j, "running", 0, 0, 1 << 24));
  load.waiting = static_cast<int>(number(j, "waiting", 0, 0, 1 << 24));
  load.kv_blocks_used = static_cast<int64_t>(number(j, "kv_blocks_used", 0, 0, 1e15));
  return load;
}

}  // namespace

PerfProfile parse_profile(const json& points) {
  PerfProfile p;
  int min_batch = 0;
  if (points.is_null()) return p;
  if (!points.is_array()) throw bad_param("profile", "'profile' must be an array of {batch, prefill_tok_s, decode_tok_s}");
  for (const json& pt : points) {
    if (!pt.is_object()) throw bad_param("profile", "each profile point must be an object");
    const int batch = static_cast<int>(number(pt, "batch", 0, 1, 1 << 20));
    const double prefill = number(pt, "prefill_tok_s", 0, 0, 1e12);
    const double decode = number(pt, "decode_tok_s", 0, 0, 1e12);
    if (batch < 1 || decode <= 0) throw bad_param("profile", "each profile point needs batch >= 1 and decode_tok_s > 0");
    p.prefill_tok_s = std::max(p.prefill_tok_s, prefill);
    // The smallest batch measured stands for batch 1 (bench normally measures 1 itself).
    if (!p.has || batch < min_batch) {
      min_batch = batch;
      p.decode_tok_s_1 = decode;
    }
    if (!p.has || batch >= p.max_batch) {
      p.max_batch = batch;
      p.decode_tok_s_max = decode;
    }
    p.has = true;
  }
  if (p.has && p.prefill_tok_s <= 0) p.prefill_tok_s = p.decode_tok_s_max;  // no prefill measured
  return p;
}

WorkerReport parse_registration(const std::string& body) {
  const json j = parse_object(body);
  WorkerReport r;
  r.url = url_of(j);
  if (j.contains("models")) {
    if (!j["models"].is_array()) throw bad_param("models", "'models' must be an array of model ids");
    for (const json& m : j["models"]) {
      if (!m.is_string()) throw bad_param("models", "'models' must be an array of model ids");
      r.models.push_back(m.get<std::string>());
    }
  }
  if (j.contains("device") && j["device"].is_string()) r.device = j["device"].get<std::string>();
  r.price_per_hour = number(j, "price_per_hour", 0, 0, 1e9);
  r.max_seqs = static_cast<int>(number(j, "max_seqs", 0, 0, 1 << 20));
  r.kv_blocks_total = static_cast<int64_t>(number(j, "kv_blocks_total", 0, 0, 1e15));
  r.profile = parse_profile(j.contains("profile") ? j["profile"] : json());
  return r;
}

std::string parse_heartbeat(const std::string& body, LiveLoad& load) {
  const json j = parse_object(body);
  load = load_of(j);
  return url_of(j);
}

std::string worker_record(const WorkerReport& r, const LiveLoad& load) {
  json profile = nullptr;
  if (r.profile.has) {
    // The two points the profile keeps; parse_profile reads them back to the same values.
    profile = json::array();
    profile.push_back({{"batch", 1}, {"prefill_tok_s", r.profile.prefill_tok_s}, {"decode_tok_s", r.profile.decode_tok_s_1}});
    if (r.profile.max_batch > 1) {
      profile.push_back({{"batch", r.profile.max_batch},
                         {"prefill_tok_s", r.profile.prefill_tok_s},
                         {"decode_tok_s", r.profile.decode_tok_s_max}});
    }
  }
  return json{{"url", r.url},
              {"models", r.models},
              {"device", r.device},
              {"price_per_hour", r.price_per_hour},
              {"max_seqs", r.max_seqs},
              {"kv_blocks_total", r.kv_blocks_total},
              {"profile", profile},
              {"running", load.running},
              {"waiting", load.waiting},
              {"kv_blocks_used", load.kv_blocks_used}}
      .dump();
}

std::pair<WorkerReport, LiveLoad> parse_worker_record(const std::string& text) {
  return {parse_registration(text), load_of(parse_object(text))};
}

}  // namespace anychip::router
