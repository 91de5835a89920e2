#!/usr/bin/env bash
# Builds the GGUF fuzzer with clang (ASan + UBSan) in build-fuzz/, writes the seed corpus, and
# fuzzes for SECONDS. Exits non-zero on any finding; the crashing input is left in
# build-fuzz/artifacts/ (replay it with: build-fuzz/fuzz/gguf_fuzz build-fuzz/artifacts/crash-...).
#   usage: fuzz/run.sh SECONDS [extra libFuzzer flags...]
set -euo pipefail

seconds=${1:?usage: fuzz/run.sh SECONDS [libFuzzer flags...]}
shift
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$root/build-fuzz
shared=$root/../shared

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DANYCHIP_FUZZ=ON -DANYCHIP_TESTS=OFF -DANYCHIP_CUDA=OFF >/dev/null
cmake --build "$build" --target gguf_fuzz make_seed_corpus

# Synthesized seeds, plus shrunken copies (metadata + small tensors) of a couple of real files:
# the real files themselves are far over the 64 KB input limit.
seeds=$build/seeds
rm -rf "$seeds"
real=()
for f in "$shared/conformance/c-llama-s7-q4_0.gguf" "$shared/models/aidreams-260k.gguf"; do
  [[ -f $f ]] && real+=("$f")
done
"$build/fuzz/make_seed_corpus" "$seeds" "${real[@]}"

corpus=$build/corpus  # grows across runs; new interesting inputs land here
mkdir -p "$corpus" "$build/artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

set +e
"$build/fuzz/gguf_fuzz" "$corpus" "$seeds" \
  -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$build/artifacts/" -print_final_stats=1 "$@"
rc=$?
set -e
if [[ $rc -ne 0 ]]; then
  echo "gguf_fuzz: FINDING (exit $rc); inputs in $build/artifacts/:" >&2
  ls -l "$build/artifacts/" >&2
  exit "$rc"
fi
echo "gguf_fuzz: no findings in ${seconds}s"
