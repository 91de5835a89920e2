#pragma once
// What the router knows about one worker, as plain data: its static description (from the
// command line or its registration) and a point-in-time snapshot that the policies decide on.
#include <cstdint>
#include <string>
#include <vector>

namespace anychip::router {

// Throughput of a worker as `anychip bench --batch ... --json` measures it. Absent (has == false)
// for plain OpenAI-compatible workers: the cost-slo policy then cannot predict their latency.
struct PerfProfile {
  bool has = false;
  int max_batch = 1;            // the largest batch measured (or the worker's max_seqs)
  double prefill_tok_s = 0;     // prompt tokens/s (the best measured)
  double decode_tok_s_1 = 0;    // generated tokens/s with one sequence
  double decode_tok_s_max = 0;  // generated tokens/s summed over max_batch sequences

  // Aggregate decode tokens/s with `batch` sequences, interpolated linearly between 1 and
  // max_batch (and flat beyond): enough to rank workers, not a performance model.
  double decode_tok_s(int batch) const;
};

struct WorkerSnapshot {
  std::string id;            // the base URL, "http://host:port"
  bool available = false;    // healthy and its circuit breaker closed
  int in_flight = 0;         // requests the router has open on it now
  int running = 0;           // engine-reported (heartbeat), 0 for static workers
  int waiting = 0;
  int max_seqs = 0;          // 0: unknown
  double price_per_hour = 0;
  PerfProfile profile;
  std::vector<std::string> models;
  // Its recent observed over predicted latencies (LatencyCalibration); 1: as profiled.
  double ttft_scale = 1;
  double tpot_scale = 1;
};

}  // namespace anychip::router
