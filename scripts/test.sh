#!/usr/bin/env bash
# Installs dependencies, builds, and runs the whole suite twice: a normal
# build, then AddressSanitizer + UndefinedBehaviorSanitizer (leaks checked).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
scripts/deps.sh
if command -v clang-format >/dev/null; then scripts/lint.sh; fi
scripts/build.sh build
ctest --test-dir build --output-on-failure -j2 --timeout 180
scripts/build.sh build-asan -DQC_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
# The sanitizer pass leaves out the PostgreSQL copies of the SIGKILL loops
# and pg02 (two more clusters): the code they reach is the code the other
# pg tests reach, and the suite stays within about 8 minutes on 2 cores.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j2 --timeout 240 \
    -E '^(f01_broker_kill9_pg|f02_worker_kill9_pg|pg02_failover_standby)$'
echo "all tests passed (normal and sanitizer builds) in $(( $(date +%s) - start ))s"
