#!/usr/bin/env bash
# Installs everything anychip needs to build and test on Debian 12.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake ninja-build clang libclang-rt-14-dev \
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev \
  libpcre2-dev pkg-config libcpp-httplib-dev \
  libvulkan-dev mesa-vulkan-drivers glslc \
  g++-aarch64-linux-gnu qemu-user \
  python3 ca-certificates git >/dev/null
# The router's end-to-end tests: a real etcd (routers sharing a fleet) and headless Chromium (the
# dashboard). Without them those two tests are reported as skipped.
$SUDO apt-get install -y -qq --no-install-recommends etcd-server etcd-client chromium chromium-driver >/dev/null
# Node and npm run the `anychip serve` end-to-end test with the official openai client
# (tests/openai). A Node already installed (e.g. from NodeSource, which bundles npm) is kept.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
echo "dependencies installed"
