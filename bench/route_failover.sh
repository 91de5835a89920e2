#!/usr/bin/env bash
# Issue #6, acceptance 2, non-streamed half (the streamed half is tests/openai/route.test.mjs):
# a router over three workers, `loadgen --no-stream --concurrency 16 --requests 200`, and the
# worker with the most requests in flight SIGKILLed mid-load. Prints loadgen's completed/failed
# counts and the router's retries: a request whose worker dies before answering is retried on
# another worker, so all 200 should complete.
# usage: bench/route_failover.sh [BUILD/anychip] [MODEL.gguf]
set -uo pipefail
cd "$(dirname "$0")/.."
BIN="$(realpath "${1:-build/anychip}")"
MODEL="$(realpath "${2:-../shared/conformance/c-llama-s7-f32.gguf}")"
WORK="$(mktemp -d /tmp/anychip-failover.XXXXXX)"
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
port_of() {
  for _ in $(seq 300); do
    local p
    p="$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$1" 2>/dev/null | head -1 | sed 's/.*://')"
    [ -n "$p" ] && { echo "$p"; return; }
    sleep 0.1
  done
  echo "error: no listening line in $1" >&2; exit 1
}
"$BIN" route --host 127.0.0.1 --port 0 --health-interval 0.5 2> "$WORK/router.log" > /dev/null &
PIDS+=($!)
router="http://127.0.0.1:$(port_of "$WORK/router.log")"
workers=()
for i in 1 2 3; do
  "$BIN" serve -m "$MODEL" --host 127.0.0.1 --port 0 -t 1 --max-seqs 8 --ctx-size 4096 --join "$router" \
    --price-per-hour "$i" 2> "$WORK/w$i.log" > /dev/null &
  workers+=($!)
  PIDS+=($!)
done
for _ in $(seq 100); do
  [ "$(curl -s "$router/fleet" | grep -o '"healthy_workers":[0-9]*' | cut -d: -f2)" = 3 ] && break
  sleep 0.1
done
"$BIN" loadgen --url "$router" --endpoint completions --no-stream --concurrency 16 --requests 200 \
  --prompt-tokens 4 --gen-tokens 1500 --timeout 120 --json > "$WORK/loadgen.json" &
loadgen=$!
sleep 2
most=0 victim=""
for i in 1 2 3; do
  url="http://127.0.0.1:$(port_of "$WORK/w$i.log")"
  n="$(curl -s "$router/metrics" | awk -v k="anychip_router_worker_in_flight{worker=\"$url\"}" '$1 == k { print $2 }')"
  if [ "${n:-0}" -gt "$most" ]; then most="$n"; victim="${workers[$((i - 1))]}"; fi
done
[ -n "$victim" ] || { echo "error: no requests in flight to interrupt" >&2; exit 1; }
kill -9 "$victim"
echo "killed the busiest worker with $most requests in flight"
wait "$loadgen"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("completed", d["completed"], "failed", d["failed"], d["failure_reasons"] or "")' "$WORK/loadgen.json"
curl -s "$router/metrics" | grep -E '^anychip_router_(retries|broken_streams)_total'
