// anychip bench: prompt-processing and generation speed, and generation's share of the memory
// bandwidth roofline.
#include <sys/resource.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "backend/profiling_device.h"
#include "backend/registry.h"
#include "cli/commands.h"
#include "engine/batch_benchmark.h"
#include "engine/benchmark.h"
#include "model/model.h"
#include "util/error.h"

namespace anychip::cli {
namespace {

struct BenchCliOptions {
  std::string model_path;
  std::string device = "cpu";
  int threads = 0;
  engine::BenchOptions bench;
  bool json = false;
  bool profile = false;  // time each op of the generation phase
  std::vector<int> batches;  // serving-engine throughput at these batch sizes
};

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

nlohmann::json op_profile(const backend::ProfilingDevice& p);
void print_profile(const char* heading, const nlohmann::json& rows);

// With a profiler, every op of the whole run is timed (prefill and decode of every batch size):
// what is left "between ops" is the engine's host work (scheduling, sampling, logits transfers).
int bench_batches(const BenchCliOptions& o, backend::Device& device, model::Model& model,
                  backend::ProfilingDevice* profiler) {
  if (profiler) profiler->set_recording(true);
  const auto points = engine::run_batch_benchmark(model, o.batches, o.bench.prompt_tokens, o.bench.gen_tokens, o.bench.repeats);
  if (profiler) profiler->set_recording(false);
  if (o.json) {
    nlohmann::json profile = nlohmann::json::array();
    for (const auto& p : points) profile.push_back({{"batch", p.batch}, {"prefill_tok_s", p.prefill_tok_s}, {"decode_tok_s", p.decode_tok_s}});
    std::cout << nlohmann::json{{"model", o.model_path},
                                {"device", device.info().backend + ":" + std::to_string(device.info().index)},
                                {"threads", device.info().threads},
                                {"prompt_tokens", o.bench.prompt_tokens},
                                {"gen_tokens", o.bench.gen_tokens},
                                {"profile", profile},
                                {"op_profile", profiler ? op_profile(*profiler) : nlohmann::json()}}
                     .dump()
              << "\n";
    return 0;
  }
  std::printf("model        %s\n", o.model_path.c_str());
  std::printf("device       %s (%s), %d threads\n", device.info().backend.c_str(), device.info().name.c_str(), device.info().threads);
  std::printf("%6s %16s %16s\n", "batch", "prefill tok/s", "decode tok/s");
  for (const auto& p : points) std::printf("%6d %16.2f %16.2f\n", p.batch, p.prefill_tok_s, p.decode_tok_s);
  if (profiler) print_profile("op profile (the whole run: warm-ups, prefill and decode of every batch size)", op_profile(*profiler));
  return 0;
}

// Where the recorded time went: per op, and the rest (between ops: the engine, sampling).
nlohmann::json op_profile(const backend::ProfilingDevice& p) {
  const double wall = p.wall_seconds();
  nlohmann::json rows = nlohmann::json::array();
  double in_ops = 0;
  for (const auto& e : p.entries()) {
    nlohmann::json row = {{"op", e.name}, {"calls", e.calls}, {"seconds", e.seconds}, {"share", wall > 0 ? e.seconds / wall : 0}};
    if (!e.shape.empty()) {
      row["shape"] = e.shape;
      row["weight_bytes"] = e.weight_bytes;
      row["weight_gbs"] = e.seconds > 0 ? e.weight_bytes / e.seconds / 1e9 : 0.0;
    }
    rows.push_back(std::move(row));
    in_ops += e.seconds;
  }
  rows.push_back({{"op", "(between ops)"}, {"calls", 0}, {"seconds", wall - in_ops}, {"share", wall > 0 ? (wall - in_ops) / wall : 0}});
  return rows;
}

void print_profile(const char* heading, const nlohmann::json& rows) {
  std::printf("%s:\n", heading);
  // Matmuls also show their shape and how fast they read their weights (GB/s), to set beside the
  // machine's measured read bandwidth.
  std::printf("  %-36s %-30s %8s %10s %7s %8s\n", "op", "shape", "calls", "ms", "share", "GB/s");
  for (const auto& r : rows) {
    const std::string shape = r.value("shape", "");
    std::printf("  %-36s %-30s %8lld %10.2f %6.1f%%", r["op"].get<std::string>().c_str(), shape.c_str(),
                r["calls"].get<long long>(), 1e3 * r["seconds"].get<double>(), 100.0 * r["share"].get<double>());
    if (r.contains("weight_gbs")) std::printf(" %8.1f", r["weight_gbs"].get<double>());
    std::printf("\n");
  }
}

int bench(const BenchCliOptions& o) {
  backend::DeviceOptions dopts;
  dopts.threads = o.threads;
  auto device = backend::create_device(o.device, dopts);
  std::unique_ptr<backend::ProfilingDevice> profiler;
  if (o.profile) profiler = std::make_unique<backend::ProfilingDevice>(*device);
  backend::Device& run_on = profiler ? static_cast<backend::Device&>(*profiler) : *device;
  auto model = model::Model::load(o.model_path, run_on);
  if (!o.batches.empty()) return bench_batches(o, *device, *model, profiler.get());
  engine::BenchOptions bench_options = o.bench;
  if (profiler) {
    bench_options.on_phase = [&](engine::BenchOptions::Phase phase) {
      profiler->set_recording(phase == engine::BenchOptions::Phase::Generation);
    };
  }
  double rss_mib = 0;  // before the bandwidth probe's first buffer
  bench_options.probe_read_gbs = [&] {
    if (rss_mib == 0) rss_mib = peak_rss_mib();
    return device->measure_read_bandwidth_gbs();
  };
  engine::BenchResult r = engine::run_benchmark(*model, bench_options);
  nlohmann::json profile = profiler ? op_profile(*profiler) : nlohmann::json();
  if (o.json) {
    nlohmann::json out = {
        {"model", o.model_path},
        {"device", device->info().backend + ":" + std::to_string(device->info().index)},
        {"threads", device->info().threads},
        {"prompt_tokens", o.bench.prompt_tokens},
        {"gen_tokens", o.bench.gen_tokens},
        {"pp_tok_s", r.pp_tok_s},
        {"tg_tok_s", r.tg_tok_s},
        {"pp_runs", r.pp_runs},
        {"tg_runs", r.tg_runs},
        {"weight_bytes_per_token", r.weight_bytes_per_token},
        {"gen_bandwidth_gbs", r.gen_bandwidth_gbs},
        {"machine_bandwidth_gbs", r.machine_bandwidth_gbs},
        {"roofline_frac", r.roofline_frac},
        {"probe_runs_gbs", r.probe_runs_gbs},
        {"roofline_runs", r.roofline_runs},
        {"peak_rss_mib", rss_mib},
    };
    if (profiler) out["generation_profile"] = profile;
    std::cout << out.dump() << "\n";
    return 0;
  }
  std::printf("model        %s\n", o.model_path.c_str());
  std::printf("device       %s (%s), %d threads\n", device->info().backend.c_str(), device->info().name.c_str(),
              device->info().threads);
  std::printf("pp%-4d       %8.2f tokens/s (median of %d)\n", o.bench.prompt_tokens, r.pp_tok_s, o.bench.repeats);
  std::printf("tg%-4d       %8.2f tokens/s (median of %d)\n", o.bench.gen_tokens, r.tg_tok_s, o.bench.repeats);
  std::printf("bandwidth    %8.2f GB/s during generation (%.1f MB of weights per token)\n", r.gen_bandwidth_gbs,
              r.weight_bytes_per_token / 1e6);
  std::printf("roofline     %8.2f GB/s measured read bandwidth -> %.1f%% (medians; runs:", r.machine_bandwidth_gbs,
              100.0 * r.roofline_frac);
  for (size_t i = 0; i < r.roofline_runs.size(); ++i) {
    std::printf("%s %.1f%% of %.1f", i ? "," : "", 100.0 * r.roofline_runs[i], r.probe_runs_gbs[i]);
  }
  std::printf(" GB/s)\n");
  std::printf("peak RSS     %8.1f MiB\n", rss_mib);
  if (profiler) print_profile("generation profile (the measured generation runs)", profile);
  return 0;
}

}  // namespace

Action add_bench_command(CLI::App& app) {
  auto o = std::make_shared<BenchCliOptions>();
  CLI::App* cmd = app.add_subcommand("bench", "Measure prompt-processing and generation speed");
  cmd->add_option("-m,--model", o->model_path, "GGUF model file")->required();
  cmd->add_option("-t,--threads", o->threads, "CPU threads (default: all cores)")->check(CLI::Range(1, 1024));
  cmd->add_option("-p,--prompt-tokens", o->bench.prompt_tokens, "Prompt length")->check(CLI::Range(1, 1 << 20));
  cmd->add_option("-n,--gen-tokens", o->bench.gen_tokens, "Tokens to generate")->check(CLI::Range(1, 1 << 20));
  cmd->add_option("-r,--repeats", o->bench.repeats, "Measured runs after one warm-up")->check(CLI::Range(1, 1000));
  cmd->add_option("--device", o->device, "Device: cpu (default), cuda[:N] or vulkan[:N] (see info --devices)");
  cmd->add_flag("--json", o->json, "Print one JSON object");
  cmd->add_flag("--profile", o->profile,
                "Also time every op (of the generation phase; with --batch, of the whole run), synchronizing after each, and print where the time went");
  cmd->add_option("--batch", o->batches,
                  "Serving throughput instead: prefill and decode tokens/s with this many sequences at once "
                  "(comma-separated list, e.g. 1,8,16)")
      ->delimiter(',')
      ->check(CLI::Range(1, 1024));
  return [o] { return bench(*o); };
}

}  // namespace anychip::cli
