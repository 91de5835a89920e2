#!/usr/bin/env bash
# Serving throughput and prefix-cache TTFT of `anychip serve`, measured with `anychip loadgen`.
# usage: bench/serve_throughput.sh MODEL.gguf [THREADS]
# Prints one JSON line per measurement: output tokens/s at concurrency 1, 8 and 16 (32-token
# prompts, 128-token outputs, EOS ignored), then the TTFT of a request with a new 1000-token
# system prompt and of 7 more sharing it.
set -euo pipefail
cd "$(dirname "$0")/.."
model="$1"; threads="${2:-2}"
bin=build/anychip
log="$(mktemp)"
"$bin" serve -m "$model" --threads "$threads" --port 0 --max-seqs 16 2>"$log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 300); do
  port="$(grep -oE 'listening on http://[0-9.]+:[0-9]+' "$log" | grep -oE '[0-9]+$' || true)"
  [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  sleep 0.2
done
url="http://127.0.0.1:$port"
summary='{c: .config.concurrency, requests: .completed, failed, output_tok_s, ttft_p50_ms: .ttft_ms.p50, tpot_p50_ms: .tpot_ms.p50, tpot_p99_ms: .tpot_ms.p99}'
"$bin" loadgen --url "$url" --concurrency 8 --requests 8 --prompt-tokens 32 --gen-tokens 16 --json >/dev/null  # warm-up
for c in 1 8 16; do
  "$bin" loadgen --url "$url" --concurrency "$c" --requests $((c * 4 < 8 ? 8 : c * 4)) --prompt-tokens 32 --gen-tokens 128 --json |
    python3 -c "import json,sys; d=json.load(sys.stdin); print(json.dumps({'concurrency': $c, 'completed': d['completed'], 'failed': d['failed'], 'output_tok_s': round(d['output_tok_s'],1), 'ttft_p50_ms': round(d['ttft_ms']['p50'],1), 'tpot_p50_ms': round(d['tpot_ms']['p50'],1), 'tpot_p99_ms': round(d['tpot_ms']['p99'],1)}))"
done
first="$("$bin" loadgen --url "$url" --concurrency 1 --requests 1 --shared-prefix 1000 --prompt-tokens 16 --gen-tokens 8 --seed 91 --json)"
rest="$("$bin" loadgen --url "$url" --concurrency 1 --requests 8 --shared-prefix 1000 --prompt-tokens 16 --gen-tokens 8 --seed 91 --json)"
python3 - "$first" "$rest" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
# The second run's request 0 repeats the first run's prompt exactly; requests 1..7 share only the
# system prompt. p99 over the 8 is the slowest of them.
print(json.dumps({"prefix_first_ttft_ms": round(a["ttft_ms"]["p50"], 1), "prefix_input_tokens": a["total_input_tokens"],
                  "prefix_next_ttft_p50_ms": round(b["ttft_ms"]["p50"], 1), "prefix_next_ttft_max_ms": round(b["ttft_ms"]["p99"], 1),
                  "ttft_ratio_first_over_slowest_next": round(a["ttft_ms"]["p50"] / b["ttft_ms"]["p99"], 1)}))
PY
curl -s "$url/metrics" | grep -E '^anychip_prefix_cache_hit_rate'
