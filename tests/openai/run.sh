#!/usr/bin/env bash
# End-to-end tests of `anychip serve` and `anychip route` with the official openai npm client (v4).
# usage: tests/openai/run.sh [PATH/TO/anychip] [--needs PROGRAM]... [FILE.test.mjs ...]
#   (default binary: build/anychip; default files: the serve and route suites below)
# --needs: exit 77 (ctest: skipped) when PROGRAM is not installed (e.g. etcd, chromium).
# Needs node >= 18 and npm; `npm ci` installs the locked client into tests/openai/node_modules.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-$here/../../build/anychip}"
[ $# -gt 0 ] && shift
needs=()
files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --needs) needs+=("$2"); shift 2 ;;
    *) files+=("$1"); shift ;;
  esac
done
for program in "${needs[@]+"${needs[@]}"}"; do
  command -v "$program" >/dev/null || { echo "SKIPPED: $program is not installed (scripts/install-deps.sh)"; exit 77; }
done
export ANYCHIP_BIN="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
[ -x "$ANYCHIP_BIN" ] || { echo "error: $ANYCHIP_BIN is not an executable (build the anychip target)"; exit 1; }
command -v node >/dev/null && command -v npm >/dev/null || { echo "error: node and npm are needed (scripts/install-deps.sh)"; exit 1; }
cd "$here"
npm ci --no-audit --no-fund --loglevel=error
# One file at a time: the capacity and drain tests measure timing and should not share the CPU.
if [ ${#files[@]} -eq 0 ]; then
  files=(completions.test.mjs errors.test.mjs capacity.test.mjs models.test.mjs load.test.mjs route.test.mjs)
fi
exec node --test --test-concurrency=1 "${files[@]}"
