#!/usr/bin/env bash
# libFuzzer over the decoders of everything a peer can send (client requests,
# job objects, worker messages and RESULT bodies): fuzz_decoders.c compiled
# with clang -fsanitize=fuzzer,address,undefined against common/'s sources.
# Runs for QC_FUZZ_SECONDS (default 25), starting from tests/fault/corpus
# (new inputs go to a scratch directory, never into the source tree); fails on
# any crash, leak, undefined behaviour or failed check, and prints the number
# of executions. Skips (exit 77) if clang or its libFuzzer runtime is missing.
set -euo pipefail
: "${QC_SOURCE:?QC_SOURCE must point at the source tree}"
: "${QC_BIN:?QC_BIN must point at the build directory}"
seconds=${QC_FUZZ_SECONDS:-25}
src=$QC_SOURCE
here=$src/tests/fault
CC=${QC_FUZZ_CC:-clang}

command -v "$CC" >/dev/null || { echo "SKIP: $CC is not installed (Debian: apt-get install clang)"; exit 77; }
work=$(mktemp -d /tmp/qcfuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }' >"$work/probe.c"
if ! "$CC" -fsanitize=fuzzer,address,undefined "$work/probe.c" -o "$work/probe" 2>"$work/probe.err"; then
    echo "SKIP: $CC cannot link -fsanitize=fuzzer: its libFuzzer runtime is missing" \
         "(Debian: apt-get install clang, or libclang-rt-14-dev): $(head -c 300 "$work/probe.err")"
    exit 77
fi
pkgs="libczmq libzmq libcjson"
pkg-config --exists $pkgs || { echo "SKIP: pkg-config cannot find $pkgs"; exit 77; }

t0=$(date +%s)
# shellcheck disable=SC2046
"$CC" -std=c11 -g -O1 -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -D_GNU_SOURCE -DQC_VERSION='"fuzz"' -I"$src/include" $(pkg-config --cflags $pkgs) \
    "$here/fuzz_decoders.c" "$src/common/proto.c" "$src/common/json.c" "$src/common/job.c" \
    "$src/common/parse.c" \
    "$src/common/clock.c" \
    $(pkg-config --libs $pkgs) -o "$work/fuzz_decoders"
echo "# compiled in $(( $(date +%s) - t0 ))s; fuzzing for ${seconds}s"

mkdir "$work/corpus"
set +e
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
"$work/fuzz_decoders" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=16384 -dict="$here/fuzz.dict" -print_final_stats=1 \
    -artifact_prefix="$work/" "$work/corpus" "$here/corpus" >"$work/fuzz.log" 2>&1
rc=$?
set -e
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log" | tail -n 1)
grep -E "^#[0-9]+ +(INITED|DONE)" "$work/fuzz.log" | tail -n 2 || true
echo "# executions: ${execs:-unknown} in ${seconds}s (rc=$rc), new corpus inputs: $(ls "$work/corpus" | wc -l)"
if [ $rc -ne 0 ]; then
    echo "--- fuzzer log (last 60 lines):"
    tail -n 60 "$work/fuzz.log"
    keep="$QC_BIN/fuzz-artifacts"
    mkdir -p "$keep"
    for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
        [ -f "$a" ] || continue
        cp "$a" "$keep/"
        echo "--- $(basename "$a") (kept in $keep; first 400 bytes):"
        head -c 400 "$a" | od -c | head -n 20
    done
    echo "FAIL: the fuzzer found a problem (rc=$rc)"
    exit 1
fi
echo "# ok"
