#!/usr/bin/env bash
# Runs every test: the unit and conformance suite (Release), the shared llama.cpp checkers, the
# same suite under AddressSanitizer + UndefinedBehaviorSanitizer, and a time-bounded fuzz run of
# the GGUF parser. Expects dependencies installed (scripts/install-deps.sh) and ../shared beside
# the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="$(nproc)"
FUZZ_SECONDS="${ANYCHIP_FUZZ_SECONDS:-60}"
SHARED="$(cd .. && pwd)/shared"
[ -d "$SHARED" ] || { echo "error: $SHARED not found (the shared test data must sit beside the checkout)"; exit 1; }

echo "== build (Release)"
# Without a GPU the CUDA kernels are only compiled for the GPU (the GPU tests skip; the same
# kernels run in the CUDA emulator's tests, Emulated/*): one architecture keeps that quick.
if ! nvidia-smi -L >/dev/null 2>&1; then export ANYCHIP_CUDA_ARCHITECTURES="${ANYCHIP_CUDA_ARCHITECTURES:-90-real}"; fi
bash scripts/build.sh

echo "== build (ASan + UBSan)"
# Without Vulkan: Mesa's lavapipe leaks a few allocations and is unloaded with the instance, so
# LeakSanitizer reports them from an unknown module that no suppression can name. The Vulkan
# tests run in the Release suite below. Without CUDA too: nvcc does not build sanitized device
# code, and the CUDA tests run in the Release suite.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DANYCHIP_SANITIZE=ON -DANYCHIP_VULKAN=OFF \
  -DANYCHIP_CUDA=OFF >/dev/null
cmake --build build-asan -j"$JOBS"

echo "== fuzz the GGUF parser for ${FUZZ_SECONDS}s (libFuzzer, ASan + UBSan)"
bash fuzz/run.sh "$FUZZ_SECONDS"

echo "== Arm NEON kernels (cross-compiled, run under qemu-aarch64)"
bash scripts/test-neon.sh

echo "== llama.cpp conformance checker (../shared/conformance, ../shared/models)"
python3 "$SHARED/conformance/check.py" "build/anychip run" "$SHARED/conformance" "$SHARED/models"

echo "== llama.cpp conformance checker on the Vulkan backend (Mesa's lavapipe when there is no GPU)"
if grep -q '^ANYCHIP_VULKAN:BOOL=ON' build/CMakeCache.txt; then
  python3 "$SHARED/conformance/check.py" "build/anychip run --device vulkan" "$SHARED/conformance" "$SHARED/models"
  echo "== anychip serve --device vulkan with the openai client (the capacity and load files are CPU-only: minutes on lavapipe)"
  (cd tests/openai && npm ci --no-audit --no-fund --loglevel=error &&
   ANYCHIP_BIN="$PWD/../../build/anychip" ANYCHIP_SHARED="$SHARED" ANYCHIP_SERVE_ARGS="--device vulkan" \
     node --test completions.test.mjs errors.test.mjs models.test.mjs)
else
  echo "skipped: built without Vulkan (scripts/install-deps.sh installs libvulkan-dev, glslc and lavapipe)"
fi

echo "== test suite under ASan + UBSan"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   ctest --output-on-failure -j"$JOBS" --timeout 900)

echo "== test suite (Release)"
(cd build && ctest --output-on-failure -j"$JOBS" --timeout 900)
