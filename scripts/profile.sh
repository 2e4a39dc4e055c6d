#!/usr/bin/env bash
# Counts the instructions the broker (and, end to end, the workers) execute
# per job under callgrind, for fixed workloads. Instruction counts repeat
# from run to run within about 1-2 %, whatever else the machine is doing, so
# they compare builds where wall-clock figures on a busy machine cannot.
#
#   scripts/profile.sh [enq1] [batch] [e2e]     (all three by default)
#
#   enq1   20,000 jobs, one per request, one client
#   batch  20 requests of 1,000 jobs
#   e2e    2,000 x `true` in batches of 1,000 on 2 workers (--concurrency 1);
#          the broker and both workers run under callgrind
#
# Environment: QC_PROF_BIN=DIR measures the queuectl-broker and
# queuectl-worker in DIR (default: build-prof/, built here in Release with
# -g); QC_PROF_OUT=DIR keeps the callgrind files there (default: a new
# directory under /tmp, printed) for `callgrind_annotate FILE`.
# Counting starts once the broker (and workers) are up (callgrind_control
# -z) and ends when they exit after SIGTERM, so start-up is left out and the
# short shutdown is in. Prints one line per workload and process kind:
# "WORKLOAD PROCESS instructions/job (total instructions, jobs)".
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORKLOADS=("$@")
[ ${#WORKLOADS[@]} -gt 0 ] || WORKLOADS=(enq1 batch e2e)
command -v valgrind >/dev/null || { echo "profile.sh: valgrind is not installed" >&2; exit 1; }

log() { printf '# [%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { printf 'profile.sh: %s\n' "$*" >&2; exit 1; }

BIN=${QC_PROF_BIN:-}
if [ -z "$BIN" ]; then
    BIN=$ROOT/build-prof
    log "building queuectl (Release, -g) in build-prof/"
    cmake -S . -B "$BIN" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS=-g >/dev/null
    cmake --build "$BIN" --target queuectl-broker queuectl-worker queuectl-pg >/dev/null
fi
mkdir -p "$ROOT/build-prof/bench"
DRV=$ROOT/build-prof/bench/qc_bench
# shellcheck disable=SC2046
cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Werror \
    -o "$DRV" tests/bench/bench.c $(pkg-config --cflags --libs libczmq libzmq libcjson) -lm

T=$(mktemp -d /tmp/qcp.XXXXXX)
OUT=${QC_PROF_OUT:-$(mktemp -d /tmp/qcprof.XXXXXX)}
mkdir -p "$OUT"
PIDS=()

stop_pid() { # SIGTERM, up to 60 s (callgrind writes its file at exit), then SIGKILL
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 600; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$? p
    trap - EXIT
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do stop_pid "$p"; done
    [ $rc -eq 0 ] || for f in "$T"/*.log; do [ -s "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }; done
    rm -rf "$T"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

CG=(valgrind --tool=callgrind --dump-instr=no --compress-strings=no)

# Total instructions (Ir) in a callgrind file.
ir() { awk '/^(summary|totals):/ {print $2; exit}' "$1"; }

# The file callgrind_control dumped last for PID, or its exit file.
zero() { # PID: wait until callgrind answers, then zero its counters
    local i
    for ((i = 0; i < 100; i++)); do
        callgrind_control -z "$1" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    die "callgrind_control -z $1 failed"
}

run() {
    local w=$1 home=$T/$w jobs
    mkdir -p -m 700 "$home"
    log "$w: broker under callgrind"
    QUEUECTL_HOME=$home "${CG[@]}" --callgrind-out-file="$OUT/$w.broker.%p" \
        "$BIN/queuectl-broker" --log-level warn >>"$T/$w.log" 2>&1 &
    local broker=$!
    PIDS+=("$broker")
    local ep=ipc://$home/client.sock
    "$DRV" ping --ep "$ep" --timeout 60 || die "$w: the broker did not start"
    local workers=()
    if [ "$w" = e2e ]; then
        for i in 1 2; do
            QUEUECTL_HOME=$home "${CG[@]}" --callgrind-out-file="$OUT/$w.worker.%p" \
                "$BIN/queuectl-worker" --concurrency 1 --log-level warn >>"$T/$w.log" 2>&1 &
            workers+=($!)
            PIDS+=($!)
        done
        "$DRV" wait-workers --ep "$ep" --count 2 --timeout 60 || die "$w: workers did not register"
    fi
    zero "$broker"
    for p in "${workers[@]+"${workers[@]}"}"; do zero "$p"; done
    case $w in
    enq1)
        jobs=20000
        "$DRV" enqueue --ep "$ep" --n $jobs --secs 3600 --runs 1 >/dev/null ;;
    batch)
        jobs=20000
        "$DRV" enqueue --ep "$ep" --n $jobs --batch 1000 --secs 3600 --runs 1 >/dev/null ;;
    e2e)
        jobs=2000
        "$DRV" e2e --ep "$ep" --n $jobs --batch 1000 --runs 1 --timeout 1200 --poll-ms 500 >/dev/null ;;
    *) die "unknown workload $w (enq1, batch, e2e)" ;;
    esac
    for p in "${workers[@]+"${workers[@]}"}"; do stop_pid "$p"; done
    stop_pid "$broker"
    PIDS=()
    local f total
    f=$OUT/$w.broker.$broker
    total=$(ir "$f")
    [ -n "$total" ] || die "$w: no callgrind totals in $f"
    printf '%-6s broker %12.0f instructions/job  (%s instructions, %s jobs; %s)\n' \
        "$w" "$(awk -v t="$total" -v j="$jobs" 'BEGIN {print t / j}')" "$total" "$jobs" "$f"
    if [ ${#workers[@]} -gt 0 ]; then
        total=0
        for p in "${workers[@]}"; do
            total=$(awk -v a="$total" -v b="$(ir "$OUT/$w.worker.$p")" 'BEGIN {printf "%.0f", a + b}')
        done
        printf '%-6s worker %12.0f instructions/job  (%s instructions over both, %s jobs; %s)\n' \
            "$w" "$(awk -v t="$total" -v j="$jobs" 'BEGIN {print t / j}')" "$total" "$jobs" \
            "$OUT/$w.worker.{$(IFS=,; echo "${workers[*]}")}"
    fi
}

for w in "${WORKLOADS[@]}"; do run "$w"; done
log "callgrind files in $OUT (callgrind_annotate --inclusive=yes FILE)"
