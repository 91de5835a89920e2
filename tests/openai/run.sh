#!/usr/bin/env bash
# End-to-end test of `anychip serve` with the official openai npm client (v4).
# usage: tests/openai/run.sh [PATH/TO/anychip]   (default: build/anychip)
# Needs node >= 18 and npm; `npm ci` installs the locked client into tests/openai/node_modules.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-$here/../../build/anychip}"
export ANYCHIP_BIN="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
[ -x "$ANYCHIP_BIN" ] || { echo "error: $ANYCHIP_BIN is not an executable (build the anychip target)"; exit 1; }
command -v node >/dev/null && command -v npm >/dev/null || { echo "error: node and npm are needed (scripts/install-deps.sh)"; exit 1; }
cd "$here"
npm ci --no-audit --no-fund --loglevel=error
# One file at a time: the capacity and drain tests measure timing and should not share the CPU.
exec node --test completions.test.mjs errors.test.mjs capacity.test.mjs models.test.mjs load.test.mjs route.test.mjs
