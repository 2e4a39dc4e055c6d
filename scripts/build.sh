#!/usr/bin/env bash
# Configures and builds into build/ (or $1 with extra CMake flags after it).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -G Ninja -DQC_WERROR=ON "$@" >/dev/null
cmake --build "$dir"
