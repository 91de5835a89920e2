#!/usr/bin/env bash
# Configures and builds anychip (Release) into build/.
set -euo pipefail
cd "$(dirname "$0")/.."
# ANYCHIP_CUDA_ARCHITECTURES (e.g. 90-real) narrows the CUDA backend to fewer GPU generations:
# quicker to compile where the kernels only need to build, not run on every GPU.
cuda_args=()
if [ -n "${ANYCHIP_CUDA_ARCHITECTURES:-}" ]; then cuda_args=("-DANYCHIP_CUDA_ARCHITECTURES=$ANYCHIP_CUDA_ARCHITECTURES"); fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "${cuda_args[@]}" >/dev/null
cmake --build build -j"$(nproc)"
