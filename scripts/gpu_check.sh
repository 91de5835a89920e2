#!/usr/bin/env bash
# Checks the CUDA backend on a machine with an NVIDIA GPU, in one go, and keeps every log.
#
#   usage: OUT=/path/for/logs scripts/gpu_check.sh SHARED_DIR [MODEL.gguf ...]
#
#   SHARED_DIR  a copy of the shared test data (its conformance/ and models/ folders)
#   MODEL.gguf  models to benchmark, e.g. Llama-3.2-1B in q4_0 and q4_k_m; the first is also
#               served under load. Without any, the bench and serve steps are skipped.
#   OUT         where logs and the summary go (default: ./gpu-check-out)
#   ANYCHIP_PREBUILT_BIN, ANYCHIP_PREBUILT_TESTS
#               an `anychip` and `anychip_tests` built elsewhere (a GPU machine without the build
#               dependencies): the configure and build steps are skipped and the tests run as one
#               gtest binary instead of through ctest
#   GPU_CHECK_STEPS   which parts to run (default: "tests conformance bench vulkan serve peer")
#   VK_DRIVER_FILES   the Vulkan steps need the loader to find NVIDIA's driver; on a machine with
#                     the driver but no ICD file, point this at a JSON naming libGLX_nvidia.so.0
#   STEP_TIMEOUT      seconds any one step may take (default: 600)
#
# Steps: build Release with CUDA for sm_90 only (ANYCHIP_CUDA_ARCHITECTURES overrides), the CUDA
# tests (GPU tests must run, not skip), the llama.cpp conformance checker on --device cuda (with
# graphs and without) and on --device vulkan when a Vulkan driver is present, `anychip bench`
# (pp512, tg128, the measured memory roofline, graphs on/off), a PyTorch bf16 peer when torch is
# installed, and `anychip serve --device cuda` under `anychip loadgen` at concurrency 1 and 64.
# A failing step is recorded and the script goes on; $OUT/summary.txt lists every step.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

if [ $# -lt 1 ] || [ ! -d "$1" ]; then
  echo "usage: OUT=DIR $0 SHARED_DIR [MODEL.gguf ...]   (SHARED_DIR must hold conformance/ and models/)" >&2
  exit 2
fi
SHARED="$(cd "$1" && pwd)"
shift
MODELS=()
for m in "$@"; do
  if [ -f "$m" ]; then MODELS+=("$(cd "$(dirname "$m")" && pwd)/$(basename "$m")"); else echo "warning: $m not found, skipped" >&2; fi
done
OUT="${OUT:-$ROOT/gpu-check-out}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
BUILD="$ROOT/build-gpu"
BIN="${ANYCHIP_PREBUILT_BIN:-$BUILD/anychip}"
TESTS="${ANYCHIP_PREBUILT_TESTS:-}"
STEPS=" ${GPU_CHECK_STEPS:-tests conformance bench vulkan serve peer} "
STEP_TIMEOUT="${STEP_TIMEOUT:-600}"
wants() { [[ "$STEPS" == *" $1 "* ]]; }
ARCHS="${ANYCHIP_CUDA_ARCHITECTURES:-90-real}"
JOBS="$(nproc)"
SERVE_PID=""

# Every command, with its arguments, goes to trace.log.
exec 19>"$OUT/trace.log"
BASH_XTRACEFD=19
set -x

SUMMARY=()
NOTES=()
# step NAME COMMAND...: runs COMMAND with its output in $OUT/NAME.log, records PASS/FAIL.
step() {
  local name="$1" start rc
  shift
  start=$(date +%s)
  echo "== $name"
  # A hung step is killed, recorded as failed (exit 124), and the check goes on.
  timeout -k 10 "$STEP_TIMEOUT" "$@" >"$OUT/$name.log" 2>&1
  rc=$?
  local verdict="PASS"
  [ $rc -ne 0 ] && verdict="FAIL (exit $rc)"
  SUMMARY+=("$(printf '%-34s %-14s %5ss  %s' "$name" "$verdict" "$(( $(date +%s) - start ))" "$name.log")")
  tail -n 4 "$OUT/$name.log"
  return $rc
}
note() { NOTES+=("$*"); echo "   $*"; }

cleanup() {
  if [ -n "$SERVE_PID" ]; then kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; fi
}
trap cleanup EXIT

# ---- the machine
step environment bash -c 'uname -a; nproc; free -g; nvidia-smi; nvcc --version; cmake --version; ninja --version;
  g++ --version; python3 --version; (vulkaninfo --summary 2>/dev/null || echo "no vulkaninfo")'

if [ -z "${ANYCHIP_PREBUILT_BIN:-}" ]; then
  missing=()
  for tool in cmake ninja pkg-config g++ nvcc python3; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
  for lib in libpcre2-8 cpp-httplib; do pkg-config --exists "$lib" 2>/dev/null || missing+=("$lib"); done
  if [ ${#missing[@]} -gt 0 ]; then
    note "missing build dependencies: ${missing[*]}; trying scripts/install-deps.sh (needs apt and a network)"
    step install_deps bash scripts/install-deps.sh
  fi

  # ---- build
  step configure cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DANYCHIP_CUDA=ON \
    "-DANYCHIP_CUDA_ARCHITECTURES=$ARCHS" "-DANYCHIP_SHARED_DIR=$SHARED"
  step build cmake --build "$BUILD" -j"$JOBS"
fi
if [ ! -x "$BIN" ]; then
  note "no binary at $BIN: every later step is skipped"
else
  step devices "$BIN" info --devices

  # ---- unit and op tests on the GPU
  if wants tests && [ -n "$TESTS" ]; then
    step gtest_cuda "$TESTS" --gtest_filter='Cuda*:*/Cuda*:*CudaNumerics*'
    step gtest_vulkan "$TESTS" --gtest_filter='*Vulkan*'
    if grep -qE 'skipped: no CUDA device' "$OUT/gtest_cuda.log"; then
      note "CUDA GPU tests were SKIPPED: the GPU was not usable (see gtest_cuda.log)"
      SUMMARY+=("$(printf '%-34s %-14s' gtest_gpu_ran_on_gpu 'FAIL (skipped)')")
    fi
  elif wants tests; then
    step ctest_cuda bash -c "cd '$BUILD' && ctest -R 'Cuda' --output-on-failure -j4 --timeout 900"
    if grep -qE 'Cuda(Matmul|Ops|Attention|Model).*Skipped' "$OUT/ctest_cuda.log"; then
      note "CUDA GPU tests were SKIPPED: the GPU was not usable (the reason is in ctest_cuda_verbose.log)"
      SUMMARY+=("$(printf '%-34s %-14s' ctest_cuda_ran_on_gpu 'FAIL (skipped)')")
    fi
    step ctest_cuda_verbose bash -c "cd '$BUILD' && ctest -R 'CudaModel|CudaRegistry' -V --timeout 900"
  fi

  # ---- conformance against llama.cpp's logits
  if wants conformance; then
    step conformance_cuda python3 "$SHARED/conformance/check.py" "$BIN run --device cuda" "$SHARED/conformance" "$SHARED/models"
    step conformance_cuda_no_graphs env ANYCHIP_CUDA_GRAPHS=0 \
      python3 "$SHARED/conformance/check.py" "$BIN run --device cuda" "$SHARED/conformance" "$SHARED/models"
  fi
  if wants conformance || wants vulkan; then
  if grep -q '^vulkan:' "$OUT/devices.log"; then
    step conformance_vulkan python3 "$SHARED/conformance/check.py" "$BIN run --device vulkan" "$SHARED/conformance" "$SHARED/models"
  else
    note "no Vulkan device listed: Vulkan conformance skipped"
  fi
  fi

  # ---- speed: CUDA, then Vulkan on the same GPU, then the PyTorch peer
  for model in "${MODELS[@]}"; do
    name="$(basename "$model" .gguf)"
    if wants bench; then
      step "bench_${name}_cuda" bash -c "'$BIN' bench -m '$model' --device cuda -p 512 -n 128 -r 5 --json > '$OUT/bench_${name}_cuda.json'"
      step "bench_${name}_cuda_no_graphs" env ANYCHIP_CUDA_GRAPHS=0 "$BIN" bench -m "$model" --device cuda -p 512 -n 128 -r 2
      step "bench_${name}_cuda_batches" "$BIN" bench -m "$model" --device cuda -p 128 -n 64 -r 1 --batch 1,8,64
    fi
    if wants vulkan && grep -q '^vulkan:' "$OUT/devices.log"; then
      step "bench_${name}_vulkan" bash -c "'$BIN' bench -m '$model' --device vulkan -p 512 -n 128 -r 3 --json > '$OUT/bench_${name}_vulkan.json'"
    fi
    if wants peer; then
      if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' >/dev/null 2>&1; then
        step "peer_torch_${name}" bash -c "python3 '$ROOT/bench/cuda_peer_torch.py' '$BIN' '$model' 512 > '$OUT/peer_${name}.json'"
      else
        note "PyTorch with CUDA not importable: no peer measured for $name (pip install torch, then rerun)"
      fi
    fi
  done

  # ---- serving under load
  if wants serve && [ ${#MODELS[@]} -gt 0 ]; then
    model="${MODELS[0]}"
    serve_log="$OUT/serve.log"
    "$BIN" serve -m "$model" --device cuda --port 0 --max-seqs 64 --max-queue 256 >"$serve_log" 2>&1 &
    SERVE_PID=$!
    port=""
    for _ in $(seq 600); do
      port="$(grep -oE 'listening on http://[0-9.]+:[0-9]+' "$serve_log" | grep -oE '[0-9]+$' | head -n 1)"
      [ -n "$port" ] && python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/health', timeout=2)" \
        >/dev/null 2>&1 && break
      kill -0 "$SERVE_PID" 2>/dev/null || break
      sleep 0.5
    done
    if [ -z "$port" ] || ! kill -0 "$SERVE_PID" 2>/dev/null; then
      note "serve --device cuda did not come up (see serve.log)"
      SUMMARY+=("$(printf '%-34s %-14s' serve_start FAIL)")
    else
      url="http://127.0.0.1:$port"
      step loadgen_warmup "$BIN" loadgen --url "$url" --concurrency 8 --requests 16 --prompt-tokens 64 --gen-tokens 16
      step loadgen_c1 bash -c "'$BIN' loadgen --url '$url' --concurrency 1 --requests 8 --prompt-tokens 128 --gen-tokens 128 --json > '$OUT/loadgen_c1.json'"
      step loadgen_c64 bash -c "'$BIN' loadgen --url '$url' --concurrency 64 --requests 256 --prompt-tokens 128 --gen-tokens 128 --json > '$OUT/loadgen_c64.json'"
      step loadgen_c64_text "$BIN" loadgen --url "$url" --concurrency 64 --requests 128 --prompt-tokens 128 --gen-tokens 128
    fi
    cleanup
    SERVE_PID=""
  fi
fi

# ---- summary: every step, then the numbers the acceptance criteria ask for
set +x
{
  echo "anychip CUDA check, $(date -u +%FT%TZ), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
  echo
  printf '%s\n' "${SUMMARY[@]}"
  [ ${#NOTES[@]} -gt 0 ] && { echo; printf 'note: %s\n' "${NOTES[@]}"; }
  echo
  grep -h -E 'passed, [0-9]+ failed' "$OUT"/conformance_*.log 2>/dev/null | sed 's/^/conformance: /'
  python3 - "$OUT" <<'PY'
import glob, json, os, sys
out = sys.argv[1]
def load(path):
    try:
        with open(path) as f:
            return json.loads(f.read().strip().splitlines()[-1])
    except Exception:
        return None
for path in sorted(glob.glob(os.path.join(out, "bench_*_cuda.json"))):
    b = load(path)
    if not b:
        continue
    name = os.path.basename(path)[6:-len("_cuda.json")]
    def line(device, r):
        return (f"bench {name} {device}: pp{r['prompt_tokens']} {r['pp_tok_s']:.1f} tok/s, tg{r['gen_tokens']} {r['tg_tok_s']:.1f} tok/s, "
                f"{r['gen_bandwidth_gbs']:.1f} GB/s of {r['machine_bandwidth_gbs']:.1f} GB/s measured = {100 * r['roofline_frac']:.1f}%")
    print(line("cuda", b) + " (target >= 50%)")
    v = load(os.path.join(out, f"bench_{name}_vulkan.json"))
    if v:
        print(line("vulkan", v) + f" -> vulkan/cuda tg {v['tg_tok_s'] / b['tg_tok_s']:.2f}x (target >= 0.70), "
              f"pp {v['pp_tok_s'] / b['pp_tok_s']:.2f}x")
    p = load(os.path.join(out, f"peer_{name}.json"))
    if p:
        print(f"  peer {p['peer']}: decode {p['decode_tok_s_graph']:.1f} tok/s (graph), pp{p['prefill_tokens']} "
              f"{p['prefill_tok_s']:.1f} tok/s -> anychip/peer tg {b['tg_tok_s'] / p['decode_tok_s_graph']:.2f}x, "
              f"pp {b['pp_tok_s'] / p['prefill_tok_s']:.2f}x")
c1, c64 = load(os.path.join(out, "loadgen_c1.json")), load(os.path.join(out, "loadgen_c64.json"))
for name, r in (("concurrency 1", c1), ("concurrency 64", c64)):
    if r:
        print(f"serve {name}: {r['output_tok_s']:.1f} output tok/s, completed {r['completed']}, failed {r['failed']}, "
              f"TTFT p99 {r['ttft_ms']['p99']:.1f} ms, TPOT p99 {r['tpot_ms']['p99']:.2f} ms")
if c1 and c64 and c1["output_tok_s"] > 0:
    print(f"serve batched/batch-1 output tok/s: {c64['output_tok_s'] / c1['output_tok_s']:.1f}x (target >= 10x)")
PY
} >"$OUT/summary.txt" 2>&1
echo
cat "$OUT/summary.txt"
echo "logs: $OUT"
