#!/usr/bin/env bash
# Takes docs/dashboard.png: `anychip route` (cost-slo) over three workers of different real speeds
# (different models of one family, served under one name) and prices, a few minutes of Poisson
# load, then headless Chromium's screenshot of the router's dashboard at 1280x800.
# usage: bench/dashboard_screenshot.sh [BUILD/anychip] [MODELS_DIR] [OUT.png]
#   MODELS_DIR holds `anychip synth` files: qwen2-0.5b-q4_k_m, llama-1b-q4_0, llama-1b-q8_0 (.gguf)
# knobs (environment): SECONDS_OF_LOAD (default 150), RATE (req/s, default 1)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$(realpath "${1:-build/anychip}")"
MODELS="$(realpath "${2:-../synth-models}")"
PNG="$(realpath -m "${3:-docs/dashboard.png}")"
SECONDS_OF_LOAD="${SECONDS_OF_LOAD:-150}"
RATE="${RATE:-1}"
# model file, price per hour ($)
WORKERS=("qwen2-0.5b-q4_k_m 2.40" "llama-1b-q4_0 1.00" "llama-1b-q8_0 0.60")
command -v chromium >/dev/null || { echo "error: chromium is not installed (scripts/install-deps.sh)" >&2; exit 1; }
WORK="$(mktemp -d /tmp/anychip-dashboard.XXXXXX)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]+"${PIDS[@]}"}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

port_of() {
  for _ in $(seq 1 300); do
    local p
    p="$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$1" 2>/dev/null | head -1 | sed 's/.*://')" || true
    [ -n "$p" ] && { echo "$p"; return; }
    sleep 0.1
  done
  echo "error: no listening line in $1" >&2; cat "$1" >&2; exit 1
}

"$BIN" route --host 127.0.0.1 --port 0 --policy cost-slo --slo-ttft-ms 2000 --slo-tpot-ms 150 > /dev/null 2> "$WORK/router.log" &
PIDS+=($!)
router="http://127.0.0.1:$(port_of "$WORK/router.log")"
for w in "${WORKERS[@]}"; do
  set -- $w
  "$BIN" serve -m "$MODELS/$1.gguf" --alias fleet-model --host 127.0.0.1 --port 0 -t 1 --max-seqs 8 \
    --join "$router" --price-per-hour "$2" --profile > /dev/null 2> "$WORK/$1.log" &
  PIDS+=($!)
done
for _ in $(seq 1 1200); do
  [ "$(curl -s "$router/fleet" | grep -o '"healthy_workers":[0-9]*' | cut -d: -f2)" = 3 ] && break
  sleep 0.1
done
"$BIN" loadgen --url "$router" --endpoint completions --rate "$RATE" --requests "$((SECONDS_OF_LOAD * RATE))" \
  --prompt-tokens 64 --gen-tokens 64 --shared-prefix 128 --seed 7 --json > "$WORK/loadgen.json" &
loadgen=$!
PIDS+=($loadgen)
sleep "$((SECONDS_OF_LOAD - 15))"  # shortly before the end: the charts full, the fleet still busy
chromium --headless --disable-gpu --no-sandbox --hide-scrollbars --user-data-dir="$WORK/chromium" --window-size=1280,800 \
  --virtual-time-budget=4000 --screenshot="$PNG" "$router/" 2> "$WORK/chromium.log"
wait "$loadgen" || true
echo "wrote $PNG ($(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["completed"], "requests completed")' "$WORK/loadgen.json"))"
