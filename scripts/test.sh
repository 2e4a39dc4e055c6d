#!/usr/bin/env bash
# Installs dependencies, builds, and runs the whole suite twice: a normal
# build, then AddressSanitizer + UndefinedBehaviorSanitizer (leaks checked).
# The PostgreSQL runs (label pg: the same scenarios and fault loops on a real
# PostgreSQL, and the failover tests) run in the normal build only, to keep
# the suite within about 8 minutes on 2 cores; the C they reach is the same
# apart from store_pg.c. Most tests wait on processes and sockets, not the
# CPU, so ctest runs three at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
scripts/deps.sh
if command -v clang-format >/dev/null; then scripts/lint.sh; fi
scripts/build.sh build
ctest --test-dir build --output-on-failure -j3 --timeout 180
scripts/build.sh build-asan -DQC_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j3 --timeout 240 -LE pg
echo "all tests passed (normal and sanitizer builds) in $(( $(date +%s) - start ))s"
