#!/usr/bin/env bash
# Compares `anychip route`'s policies (issue #6, acceptance 3): the same workload through the same
# fleet under round-robin, least-load and cost-slo in turn, without and with a shared prompt
# prefix. Prints one markdown table: SLO attainment and goodput (`anychip loadgen --json`), cost
# per million generated tokens (the router's /metrics: anychip_router_cost_total over
# anychip_router_generated_tokens_total), and where the requests went.
#
# The fleet: three `anychip serve` workers on loopback, one thread each, each held to a share of a
# core by a CFS CPU quota (cgroup v1 or v2; needs root), so they run at really different speeds
# without competing for the host's cores (the shares add up to less than 2). Prices per hour are
# those of machines of such speeds; the middle one is the best value per token. Each worker's
# profile is measured once, in its cgroup (`anychip bench --batch 1,8`), and given with
# --profile-json; every run starts fresh workers (cold prefix caches) and a fresh router.
# Cost: each worker's price per hour over the time it had requests open (a fleet billed by use).
#
# usage: bench/route_policies.sh [BUILD/anychip] [MODEL.gguf]
# knobs (environment, defaults below): RATES REQUESTS PROMPT_TOKENS GEN_TOKENS PREFIX_TOKENS
#   SLO_TTFT_MS SLO_TPOT_MS POLICIES SCENARIOS; OUT=DIR keeps every run's loadgen JSON, /metrics
#   and logs there (otherwise a temporary directory, removed).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$(realpath "${1:-build/anychip}")"
MODEL="$(realpath "${2:-../synth-models/qwen2-0.5b-q4_k_m.gguf}")"
RATES="${RATES:-1 2}"              # requests/s, Poisson arrivals: a moderate load and a heavy one
REQUESTS="${REQUESTS:-120}"
PROMPT_TOKENS="${PROMPT_TOKENS:-64}"
GEN_TOKENS="${GEN_TOKENS:-64}"
PREFIX_TOKENS="${PREFIX_TOKENS:-256}"  # the "shared-prefix" scenario: a common system text
SLO_TTFT_MS="${SLO_TTFT_MS:-2000}"
SLO_TPOT_MS="${SLO_TPOT_MS:-100}"
POLICIES="${POLICIES:-round-robin least-load cost-slo}"
SCENARIOS="${SCENARIOS:-unique shared-prefix}"
# name, share of a core, price per hour ($)
WORKERS=("big 0.80 2.40" "mid 0.50 1.00" "small 0.25 0.60")

[ -x "$BIN" ] || { echo "error: $BIN is not an executable" >&2; exit 1; }
[ -f "$MODEL" ] || { echo "error: no model at $MODEL" >&2; exit 1; }
if [ -n "${OUT:-}" ]; then mkdir -p "$OUT"; WORK="$(realpath "$OUT")"; else WORK="$(mktemp -d /tmp/anychip-route-bench.XXXXXX)"; fi
PIDS=()
CGROUP_ROOT=""

cleanup() {
  for pid in "${PIDS[@]+"${PIDS[@]}"}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "$CGROUP_ROOT" ]; then
    for w in "${WORKERS[@]}"; do set -- $w; rmdir "$CGROUP_ROOT/$1" 2>/dev/null || true; done
    rmdir "$CGROUP_ROOT" 2>/dev/null || true
  fi
  [ -n "${OUT:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

# A cgroup per worker with its CPU quota (10 ms periods: smooth, not 100 ms bursts).
setup_cgroups() {
  if [ -w /sys/fs/cgroup/cpu ] && [ -f /sys/fs/cgroup/cpu/cpu.cfs_period_us ]; then
    CGROUP_ROOT=/sys/fs/cgroup/cpu/anychip-route-bench
    mkdir -p "$CGROUP_ROOT"
    for w in "${WORKERS[@]}"; do
      set -- $w
      mkdir -p "$CGROUP_ROOT/$1"
      echo 10000 > "$CGROUP_ROOT/$1/cpu.cfs_period_us"
      awk -v s="$2" 'BEGIN { printf "%d\n", s * 10000 }' > "$CGROUP_ROOT/$1/cpu.cfs_quota_us"
    done
  elif [ -w /sys/fs/cgroup/cgroup.subtree_control ] && grep -qw cpu /sys/fs/cgroup/cgroup.controllers; then
    CGROUP_ROOT=/sys/fs/cgroup/anychip-route-bench
    mkdir -p "$CGROUP_ROOT"
    echo +cpu > "$CGROUP_ROOT/../cgroup.subtree_control" 2>/dev/null || true
    echo +cpu > "$CGROUP_ROOT/cgroup.subtree_control"
    for w in "${WORKERS[@]}"; do
      set -- $w
      mkdir -p "$CGROUP_ROOT/$1"
      awk -v s="$2" 'BEGIN { printf "%d 10000\n", s * 10000 }' > "$CGROUP_ROOT/$1/cpu.max"
    done
  else
    echo "error: no writable cgroup CPU controller (run as root): the workers could not be given different speeds" >&2
    exit 1
  fi
}

# in_cgroup NAME COMMAND...: becomes COMMAND inside worker NAME's cgroup (it execs: run it in the
# background, whose $! is then COMMAND's own pid, or in a subshell).
in_cgroup() {
  local dir="$CGROUP_ROOT/$1"; shift
  exec sh -c 'echo $$ > "$1/cgroup.procs"; shift; exec "$@"' sh "$dir" "$@"
}

# The port a server printed in its "listening on" line.
port_of() {
  local log="$1"
  for _ in $(seq 1 300); do
    local p
    p="$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$log" 2>/dev/null | head -1 | sed 's/.*://')" || true
    [ -n "$p" ] && { echo "$p"; return; }
    sleep 0.1
  done
  echo "error: no listening line in $log:" >&2; cat "$log" >&2; exit 1
}

metric() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }

setup_cgroups
echo "== measuring each worker's profile in its cgroup" >&2
for w in "${WORKERS[@]}"; do
  set -- $w
  (in_cgroup "$1" "$BIN" bench -m "$MODEL" -t 1 -p "$PROMPT_TOKENS" -n 32 -r 1 --batch 1,8 --json) > "$WORK/$1.profile.json"
  echo "   $1 ($2 of a core, \$$3/h): $(tr -d '\n' < "$WORK/$1.profile.json" | grep -o '"profile":.*' | head -c 300)" >&2
done

ROWS=()
for RATE in $RATES; do
for scenario in $SCENARIOS; do
  prefix_args=()
  [ "$scenario" = shared-prefix ] && prefix_args=(--shared-prefix "$PREFIX_TOKENS")
  for policy in $POLICIES; do
    echo "== $RATE req/s / $scenario / $policy" >&2
    run="$WORK/$RATE.$scenario.$policy"
    "$BIN" route --host 127.0.0.1 --port 0 --policy "$policy" --slo-ttft-ms "$SLO_TTFT_MS" --slo-tpot-ms "$SLO_TPOT_MS" \
      --health-interval 0.5 > /dev/null 2> "$run.router.log" &
    PIDS+=($!); router_pid=$!
    router="http://127.0.0.1:$(port_of "$run.router.log")"
    worker_pids=()
    for w in "${WORKERS[@]}"; do
      set -- $w
      in_cgroup "$1" "$BIN" serve -m "$MODEL" --alias fleet-model --host 127.0.0.1 --port 0 -t 1 --max-seqs 8 \
        --join "$router" --price-per-hour "$3" --profile-json "$WORK/$1.profile.json" > /dev/null 2> "$run.$1.log" &
      PIDS+=($!); worker_pids+=($!)
    done
    for _ in $(seq 1 600); do
      [ "$(curl -s "$router/fleet" | grep -o '"healthy_workers":[0-9]*' | cut -d: -f2)" = 3 ] && break
      sleep 0.1
    done
    declare -A url_of=()
    for w in "${WORKERS[@]}"; do
      set -- $w
      url_of[$1]="http://127.0.0.1:$(port_of "$run.$1.log")"
    done
    "$BIN" loadgen --url "$router" --endpoint completions --rate "$RATE" --requests "$REQUESTS" --seed 1 \
      --prompt-tokens "$PROMPT_TOKENS" --gen-tokens "$GEN_TOKENS" "${prefix_args[@]+"${prefix_args[@]}"}" \
      --slo-ttft "$SLO_TTFT_MS" --slo-tpot "$SLO_TPOT_MS" --timeout 300 --json > "$run.loadgen.json" || true
    curl -s "$router/metrics" > "$run.metrics"
    kill "$router_pid" "${worker_pids[@]}" 2>/dev/null || true
    wait "$router_pid" "${worker_pids[@]}" 2>/dev/null || true

    cost="$(metric "$run.metrics" anychip_router_cost_total)"
    tokens="$(metric "$run.metrics" anychip_router_generated_tokens_total)"
    split=""
    for w in "${WORKERS[@]}"; do
      set -- $w
      n="$(metric "$run.metrics" "anychip_router_worker_requests_total{worker=\"${url_of[$1]}\"}")"
      split+="${split:+ / }${n:-0}"
    done
    ROWS+=("$(python3 - "$run.loadgen.json" "$scenario" "$policy" "$cost" "$tokens" "$split" "$RATE" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
scenario, policy, cost, tokens, split, rate = sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5]), sys.argv[6], sys.argv[7]
p = lambda s, k: f"{s[k]:.0f}" if s else "-"
print(f"| {rate} | {scenario} | {policy} | {r['completed']}/{r['completed'] + r['failed']} | {100 * (r['slo_attainment'] or 0):.1f}% | "
      f"{r['goodput_req_s'] or 0:.2f} | {r['output_tok_s']:.1f} | {p(r['ttft_ms'], 'p50')} / {p(r['ttft_ms'], 'p90')} | "
      f"{p(r['tpot_ms'], 'p50')} / {p(r['tpot_ms'], 'p90')} | {cost / tokens * 1e6 if tokens else float('nan'):.2f} | {split} |")
EOF
)")
    echo "   ${ROWS[-1]}" >&2
  done
done
done

names=""
for w in "${WORKERS[@]}"; do set -- $w; names+="${names:+ / }$1"; done
echo
echo "SLO: TTFT <= ${SLO_TTFT_MS} ms and TPOT <= ${SLO_TPOT_MS} ms. Load: Poisson arrivals, ${REQUESTS} requests, ${PROMPT_TOKENS}-token prompts, ${GEN_TOKENS} tokens each (shared-prefix: plus a common ${PREFIX_TOKENS}-token prefix)."
echo
echo "| req/s | scenario | policy | completed | SLO attainment | goodput (req/s) | output tok/s | TTFT p50 / p90 (ms) | TPOT p50 / p90 (ms) | \$ per 1M tokens | requests to $names |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
