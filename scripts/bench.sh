#!/usr/bin/env bash
# Benchmarks queuectl and prints a Markdown table (paste-able into README).
#
# Every figure is the median of QC_BENCH_RUNS runs (default 3) with its range
# (min-max), beside a baseline measured in the same run of this script.
# Figures and their baselines are interleaved run by run (baseline, figure,
# baseline, figure, ...), and ratios are the median of the per-run ratios,
# so a machine whose speed drifts during the run is compared fairly.
#
#   scripts/bench.sh                 about 12-15 minutes on 2 cores
#
# Rows (the tag in front says which section: none = SQLite at the default
# synchronous=NORMAL, "6 FULL:" = --synchronous full, "8 PostgreSQL:"):
#   1    enqueue, one job per request, one client, vs a bare ZeroMQ REQ/REP echo
#   2a   enqueue in batches of 1,000;  2b  4 clients vs 1
#   3    end to end: 5,000 x `true` on 2 one-slot workers, first enqueue ->
#        nothing pending or running, vs posix_spawn of `sh -c true` 2 at a time
#   3p   CPU per job during row 3's runs, from /proc (see "CPU per job"
#        below): job shells, broker (its ZeroMQ I/O thread shown alone),
#        workers (own; I/O threads alone), their guards, PostgreSQL's server
#        when it is the store, the driver; beside the spawn's shells and
#        spawner. Its ratio splits row 3's in two measured factors (CPU per
#        job, CPUs kept busy); its target is the CPU per job, shells aside,
#        that 3's target would allow with every CPU busy: the measured
#        reason for a miss of row 3
#   3m   mixed lengths: 200 x 10 ms behind one 6 s job
#   3c   a chain of 1,000 dependent jobs vs 1,000 independent ones
#   3g   growth: end to end at 10,000 and 100,000 jobs (QC_BENCH_GROWTH
#        sizes on SQLite), each run once after a 5,000-job run on the same
#        broker, the ratio's baseline (flat cost per job is 1), with both
#        runs' CPU per job besides the shells; on PostgreSQL 10,000 only
#        unless QC_BENCH_PG_100K=1
#   3w   many running: QC_BENCH_MANY_N (5,000) x `sleep 0.01` on 8 workers x
#        `--concurrency 4`, vs posix_spawn of the same 32 at a time; 3wp is
#        its CPU per job, as 3p
#   4a/b pickup latency p50/p99 vs bare spawn latency
#   5a-g memory, status/list latency, dispatch and restart at QC_BENCH_FILL jobs
#   7    beanstalkd with its binlog, same work;  8  PostgreSQL beside SQLite
#        (1-3, 3g at 10,000, 3w) and failover of two brokers
#
# Environment: QC_BENCH_RUNS (3), QC_BENCH_FILL (1000000 jobs for the memory
# section), QC_BENCH_NO_BEANSTALKD=1 to skip the comparison with beanstalkd,
# QC_BENCH_BIN=DIR to measure the binaries in DIR instead of building them,
# QC_BENCH_SKIP="mem full beanstalkd pg growth many" to leave sections out.
# QC_BENCH_QUICK=1 runs rows 3, 3p, 3m and 3c only. QC_BENCH_ONLY="ROWS...
# [sqlite] [pg]" runs only the named rows among e2e (3, 3p), growth (3g) and
# many (3w, 3wp), on SQLite, on PostgreSQL or both (SQLite when no backend
# is named), e.g. QC_BENCH_ONLY="growth many sqlite pg". Section 8
# measures sections 1-3 on PostgreSQL 15 (a throw-away cluster started here,
# fsync on: every commit is durable, like --synchronous full) and the
# failover time of two brokers on it (kill -9 -> first completion).
# Progress goes to stderr, the table to stdout. Targets are reported as
# PASS/MISS; a miss does not fail the script (only a broken run does).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=$ROOT/build-bench
RUNS=${QC_BENCH_RUNS:-3}
FILL=${QC_BENCH_FILL:-1000000}
SECS=2 # cap on each throughput run

log() { printf '# [%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { printf 'bench.sh: %s\n' "$*" >&2; exit 1; }
skip() { [[ " ${QC_BENCH_SKIP:-} " == *" $1 "* ]]; }

# ---------------------------------------------------------------- build
# QC_BENCH_BIN=DIR measures the broker and worker found in DIR instead (to
# compare a patched build); the driver is still built here.
if [ -n "${QC_BENCH_BIN:-}" ]; then
    log "using queuectl-broker and queuectl-worker from $QC_BENCH_BIN"
else
    log "building queuectl (Release) in build-bench/"
    cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$BUILD" --target queuectl-broker queuectl-worker queuectl-pg >/dev/null
fi
mkdir -p "$BUILD/bench"
DRV=$BUILD/bench/qc_bench
# shellcheck disable=SC2046
cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Werror \
    -o "$DRV" tests/bench/bench.c $(pkg-config --cflags --libs libczmq libzmq libcjson) -lm
BROKER=${QC_BENCH_BIN:-$BUILD}/queuectl-broker
WORKER=${QC_BENCH_BIN:-$BUILD}/queuectl-worker
[ -x "$BROKER" ] && [ -x "$WORKER" ] || die "no queuectl-broker/queuectl-worker in ${QC_BENCH_BIN:-$BUILD}"

# ---------------------------------------------------------------- processes
# Short path: ipc socket paths are limited to 107 bytes.
T=$(mktemp -d /tmp/qcb.XXXXXX)
PIDS=()

forget_pid() {
    local keep=() p
    for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    PIDS=("${keep[@]+"${keep[@]}"}")
}

# SIGTERM, up to 10 s to exit, then SIGKILL; always reaped.
stop_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" != Z ] || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    forget_pid "$pid"
}

cleanup() {
    local rc=$? p
    trap - EXIT
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do stop_pid "$p"; done
    [ -z "${PG_DIR:-}" ] || pg_stop "$PG_DIR"
    if [ $rc -ne 0 ]; then
        for f in "$T"/*.log; do
            [ -s "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }
        done
    fi
    rm -rf "$T"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts a fresh broker in $T/NAME with extra flags; sets HOMEDIR, EP, BROKER_PID.
start_broker() {
    local name=$1
    shift
    HOMEDIR=$T/$name
    mkdir -p -m 700 "$HOMEDIR" # the broker refuses a home others can reach
    if [ -n "${BENCH_PG:-}" ]; then # a fresh database per broker
        pg_createdb "b_${name//-/_}"
        set -- --db "$(pg_uri "b_${name//-/_}")" "$@"
    fi
    QUEUECTL_HOME=$HOMEDIR "$BROKER" --log-level warn "$@" >>"$T/$name.log" 2>&1 &
    BROKER_PID=$!
    PIDS+=("$BROKER_PID")
    EP=ipc://$HOMEDIR/client.sock
    "$DRV" ping --ep "$EP" --timeout 10 || die "broker $name did not start (see $T/$name.log)"
}

stop_broker() { stop_pid "$BROKER_PID"; }

# Starts N workers (--concurrency C each, 1 by default) on the current broker.
WORKER_PIDS=()
start_workers() {
    local i
    WORKER_PIDS=()
    for ((i = 0; i < $1; i++)); do
        QUEUECTL_HOME=$HOMEDIR "$WORKER" --concurrency "${2:-1}" --log-level warn \
            >>"$T/worker.log" 2>&1 &
        WORKER_PIDS+=($!)
        PIDS+=($!)
    done
    "$DRV" wait-workers --ep "$EP" --count "$1" --timeout 10 || die "workers did not register"
}

stop_workers() {
    local p
    for p in "${WORKER_PIDS[@]}"; do stop_pid "$p"; done
    WORKER_PIDS=()
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# The driver, bounded in time whatever happens; prints its first field.
drv1() { timeout 300 "$DRV" "$@" | awk '{print $1}'; }
# field N WORDS...: the Nth word (the driver prints "median min max" triples).
field() { local n=$1; shift; [ $# -ge "$n" ] || die "driver printed too little: $*"; echo "${!n}"; }
# Dies unless every argument is a number (a measurement that did not happen).
need() {
    local v
    for v in "$@"; do
        [[ $v =~ ^-?[0-9.]+([eE][-+]?[0-9]+)?$ ]] || die "a measurement failed (got \"$v\")"
    done
}

# ---------------------------------------------------------------- statistics
# "median min max" of the arguments.
stat3() {
    printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1}
        END {m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; print m, a[1], a[NR]}'
}
med() { stat3 "$@" | awk '{print $1}'; }
# Median of per-run a/b (op "/") or a-b (op "-") over two space-separated lists.
paired() {
    local op=$1 a=$2 b=$3
    paste <(printf '%s\n' $a) <(printf '%s\n' $b) |
        awk -v op="$op" '{print (op == "/") ? $1 / $2 : $1 - $2}' | sort -g |
        awk '{a[NR] = $1} END {print NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}
# 12345.6 -> 12,346
int() {
    awk -v v="$1" 'BEGIN {s = sprintf("%.0f", v); n = length(s); o = "";
        for (i = 1; i <= n; i++) {o = o substr(s, i, 1); if ((n - i) % 3 == 0 && i < n) o = o ","}
        print o}'
}
num() { awk -v v="$1" -v d="${2:-2}" 'BEGIN {printf "%.*f", d, v}'; }
# "median (min-max)" of a list, as integers or with D decimals.
# shellcheck disable=SC2046 # word splitting of "median min max" is wanted
fmt_int() { set -- $(stat3 "$@"); echo "$(int "$1") ($(int "$2")-$(int "$3"))"; }
fmt_dec() {
    local d=$1
    shift
    # shellcheck disable=SC2046
    set -- $(stat3 "$@")
    echo "$(num "$1" "$d") ($(num "$2" "$d")-$(num "$3" "$d"))"
}
# pass/miss: verdict VALUE OP LIMIT (OP: ge or le or lt)
verdict() {
    awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
        ok = (op == "ge") ? v >= l : (op == "le") ? v <= l : v < l
        print ok ? "PASS" : "MISS"}'
}

ROWS=()
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 | $6 |"); }

# ---------------------------------------------------------------- CPU per job
# Measured from /proc around each end-to-end run: user + system time of the
# broker (all its threads, ZeroMQ's I/O thread among them, which is also
# shown alone), of each worker (its own; its reaped children, i.e. the job
# shells, separately; its guard process alone), of PostgreSQL's server
# processes when it is the store, and the driver's own (getrusage). The
# spawn baseline reports its children's (the shells) and its own. Process
# times come in clock ticks of 1/CLK_TCK s (10 ms: over 5,000 jobs, 2 us a
# job); a thread's or the guard's from schedstat, in nanoseconds.
HZ=$(getconf CLK_TCK)
NCPU=$(nproc)
declare -A CPU=() # "KEY.PART" -> per-run us per job, space-separated

# "own children" CPU ticks of a process (utime+stime, cutime+cstime).
ticks() {
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo "0 0"; return 0; }
    s=${s##*) } # the name can hold spaces and parentheses
    # shellcheck disable=SC2086
    set -- $s # $1 is the state: utime is field 14 of the line, so $12
    echo "$((${12} + ${13})) $((${14} + ${15}))"
}
# CPU nanoseconds of one thread (or of a one-thread process) so far.
run_ns() { local v; read -r v _ <"$1/schedstat" 2>/dev/null || v=0; echo "$v"; }
# CPU nanoseconds of a process's ZeroMQ I/O threads (named ZMQbg/IO/N).
io_ns() {
    local t sum=0
    for t in /proc/"$1"/task/*; do
        [[ $(cat "$t/comm" 2>/dev/null) == ZMQbg/IO/* ]] || continue
        sum=$((sum + $(run_ns "$t")))
    done
    echo "$sum"
}
# One snapshot of the current broker and workers (and PostgreSQL's server),
# in microseconds: broker broker-io workers workers-io shells guards
# postgresql, then the whole machine's idle time (from /proc/stat, in ticks
# summed over CPUs).
cpu_snap() {
    local b bio=0 w=0 wio=0 sh=0 g=0 pg=0 p c x y
    read -r b _ <<<"$(ticks "$BROKER_PID")"
    bio=$(io_ns "$BROKER_PID")
    for p in "${WORKER_PIDS[@]}"; do
        read -r x y <<<"$(ticks "$p")"
        w=$((w + x)) sh=$((sh + y)) wio=$((wio + $(io_ns "$p")))
        # The guard (see worker/guard.h) names itself qc-guard; job shells are sh.
        for c in $(ps --ppid "$p" -o pid=,comm= | awk '$2 == "qc-guard" {print $1}'); do
            g=$((g + $(run_ns "/proc/$c")))
        done
    done
    if [ -n "${BENCH_PG:-}" ]; then # the postmaster, its reaped and its live children
        read -r x y <<<"$(ticks "$PG_PID")"
        pg=$((x + y))
        for c in $(ps --ppid "$PG_PID" -o pid=); do
            read -r x _ <<<"$(ticks "$c")"
            pg=$((pg + x))
        done
    fi
    local tk=$((1000000 / HZ))
    echo "$((b * tk)) $((bio / 1000)) $((w * tk)) $((wio / 1000)) $((sh * tk)) $((g / 1000))" \
        "$((pg * tk)) $(awk '/^cpu / {print $5 + $6; exit}' /proc/stat)"
}
# cpu_add KEY JOBS SECS "SNAP-BEFORE" "SNAP-AFTER" DRIVER-US: appends one
# run's us per job to CPU[KEY.*], and the machine's idle share.
cpu_add() {
    local key=$1 jobs=$2 secs=$3 i part
    local -a a b
    read -r -a a <<<"$4"
    read -r -a b <<<"$5"
    i=0
    for part in broker brokerio workers workersio shells guards pg; do
        CPU[$key.$part]+=" $(awk -v d=$((b[i] - a[i])) -v n="$jobs" 'BEGIN {print d / n}')"
        i=$((i + 1))
    done
    CPU[$key.idle]+=" $(awk -v d=$((b[7] - a[7])) -v hz="$HZ" -v s="$secs" -v c="$NCPU" \
        'BEGIN {v = d / hz / s / c; print (v > 1 ? 1 : v)}')"
    CPU[$key.driver]+=" $6"
}
# e2e_cpu KEY E2E-ARGS...: one e2e run (--runs 1) with CPU measured around
# it; sets RATE to its jobs/s (not in a subshell: CPU[] must keep the run).
e2e_cpu() {
    local key=$1 before after v n=0 limit=240 a prev=""
    shift
    for a in "$@"; do
        case $prev in --n) n=$a ;; --timeout) limit=$a ;; esac
        prev=$a
    done
    before=$(cpu_snap)
    v=$(timeout $((limit + 60)) "$DRV" e2e --ep "$EP" --runs 1 --cpu 1 "$@")
    after=$(cpu_snap)
    need "$(field 1 $v)" "$(field 4 $v)"
    cpu_add "$key" "$n" "$(awk -v n="$n" -v r="$(field 1 $v)" 'BEGIN {print n / r}')" \
        "$before" "$after" "$(field 4 $v)"
    RATE=$(field 1 $v)
}
# spawn_cpu KEY SPAWN-RATE-ARGS...: one spawn-rate run with its CPU; sets RATE.
spawn_cpu() {
    local key=$1 v n=0 a i0 i1
    shift
    for a in "$@"; do [ "$n" != next ] || n=$a; [ "$a" != --n ] || n=next; done
    i0=$(awk '/^cpu / {print $5 + $6; exit}' /proc/stat)
    v=$(timeout 600 "$DRV" spawn-rate --runs 1 --cpu 1 "$@")
    i1=$(awk '/^cpu / {print $5 + $6; exit}' /proc/stat)
    need "$(field 1 $v)" "$(field 4 $v)" "$(field 5 $v)"
    CPU[$key.sshells]+=" $(field 4 $v)" CPU[$key.spawner]+=" $(field 5 $v)"
    CPU[$key.sidle]+=" $(awk -v d=$((i1 - i0)) -v hz="$HZ" -v s="$(awk -v n="$n" -v r="$(field 1 $v)" \
        'BEGIN {print n / r}')" -v c="$NCPU" 'BEGIN {v = d / hz / s / c; print (v > 1 ? 1 : v)}')"
    RATE=$(field 1 $v)
}
# cpu_row TAG KEY ROW FACTOR E2E-RATES SPAWN-RATES: where row ROW's time
# goes, as medians over its runs. The ratio splits ROW's ratio to the spawn
# rate in two measured factors: the spawn's CPU per job over queuectl's,
# times the CPUs queuectl's processes kept busy over the CPUs the spawn kept
# busy (jobs/s = CPUs busy x 1e6 / CPU us per job, on both sides). The
# target is the CPU a job may take besides its shell for FACTOR x the spawn
# rate with every CPU busy: above it, CPU alone rules the target out.
cpu_row() {
    local tag=$1 key=$2 name=$3 factor=$4 p sh b bio w wio g pg d tot ssh sp stot
    local rate srate busy sbusy budget over text
    for p in shells broker brokerio workers workersio guards pg driver idle sshells spawner sidle; do
        [ -n "${CPU[$key.$p]:-}" ] || die "no CPU figure $key.$p"
        need ${CPU[$key.$p]}
    done
    sh=$(med ${CPU[$key.shells]}) b=$(med ${CPU[$key.broker]}) bio=$(med ${CPU[$key.brokerio]})
    w=$(med ${CPU[$key.workers]}) wio=$(med ${CPU[$key.workersio]}) g=$(med ${CPU[$key.guards]})
    pg=$(med ${CPU[$key.pg]}) d=$(med ${CPU[$key.driver]})
    ssh=$(med ${CPU[$key.sshells]}) sp=$(med ${CPU[$key.spawner]})
    rate=$(med $5) srate=$(med $6)
    tot=$(awk -v a="$sh" -v b="$b" -v c="$w" -v d="$g" -v e="$pg" -v f="$d" \
        'BEGIN {print a + b + c + d + e + f}')
    stot=$(awk -v a="$ssh" -v b="$sp" 'BEGIN {print a + b}')
    busy=$(awk -v t="$tot" -v r="$rate" 'BEGIN {print t * r / 1e6}')
    sbusy=$(awk -v t="$stot" -v r="$srate" 'BEGIN {print t * r / 1e6}')
    over=$(awk -v t="$tot" -v s="$sh" 'BEGIN {print t - s}')
    budget=$(awk -v c="$NCPU" -v f="$factor" -v r="$srate" -v s="$sh" \
        'BEGIN {print c * 1e6 / (f * r) - s}')
    pct() { num "$(awk -v i="$(med $1)" 'BEGIN {print i * 100}')" 0; }
    text="shells $(int "$sh") + broker $(int "$b") (ZeroMQ I/O thread $(int "$bio"))"
    text+=" + workers $(int "$w") (I/O threads $(int "$wio")) + guards $(int "$g")"
    [ -z "${BENCH_PG:-}" ] || text+=" + PostgreSQL server $(int "$pg")"
    text+=" + driver $(int "$d") = $(int "$tot") µs/job; $(num "$busy") CPUs busy"
    text+=" (machine idle $(pct "${CPU[$key.idle]}") %)"
    row "${tag}${name}p CPU per job during row ${name}'s runs (µs/job, medians)" "$text" \
        "posix_spawn: shells $(int "$ssh") + spawner $(int "$sp") = $(int "$stot") µs/job; $(num "$sbusy") CPUs busy (machine idle $(pct "${CPU[$key.sidle]}") %)" \
        "$(num "$(awk -v a="$tot" -v b="$stot" 'BEGIN {print b / a}')") (CPU/job) x $(num "$(awk -v a="$busy" -v b="$sbusy" 'BEGIN {print a / b}')") (CPUs busy)" \
        "all but shells <= $(int "$budget") µs/job (${factor} x spawn, $NCPU CPUs busy): $(int "$over")" \
        "$(verdict "$over" le "$budget")"
}

# ---------------------------------------------------------------- measurements
# End to end against posix_spawn, run by run, on the broker and 2 workers
# already started; appends to A_SPAWN and A_E2E.
# Each run also measures the CPU per job (CPU[e2e.*], row 3p).
e2e_runs() {
    local r
    for ((r = 0; r < RUNS; r++)); do
        spawn_cpu e2e --n 5000 --par 2
        A_SPAWN+=" $RATE"
        e2e_cpu e2e --n 5000 --batch 1000 --timeout 240
        A_E2E+=" $RATE"
    done
}

# Sections 1-3 with the broker's default flags or with "--synchronous full".
# Sets A_ECHO A_ENQ1 A_ENQ4 A_BATCH A_SPAWN A_E2E (space-separated per-run values).
measure_core() {
    local label=$1 r v
    shift
    A_ECHO="" A_ENQ1="" A_ENQ4="" A_BATCH="" A_SPAWN="" A_E2E=""
    cpu_reset e2e
    log "$label: enqueue, 1 client vs REQ/REP echo, and 4 clients ($RUNS runs each, interleaved)"
    start_broker "enq-$label" "$@"
    for ((r = 0; r < RUNS; r++)); do
        A_ECHO+=" $(drv1 echo --dir "$T" --n 40000 --secs $SECS --runs 1)"
        A_ENQ1+=" $(drv1 enqueue --ep "$EP" --n 40000 --secs $SECS --runs 1)"
        A_ENQ4+=" $(drv1 enqueue --ep "$EP" --n 80000 --secs $SECS --runs 1 --clients 4)"
    done
    stop_broker
    log "$label: enqueue in batches of 1,000 ($RUNS runs)"
    start_broker "batch-$label" "$@"
    for ((r = 0; r < RUNS; r++)); do
        A_BATCH+=" $(drv1 enqueue --ep "$EP" --n 400000 --secs $SECS --runs 1 --batch 1000)"
    done
    stop_broker
    log "$label: end to end, 5,000 x true on 2 workers vs posix_spawn, 2 in parallel ($RUNS runs)"
    start_broker "e2e-$label" "$@"
    start_workers 2
    e2e_runs
    if [ "$label" = default ]; then
        log "$label: pickup latency vs bare spawn latency (500 jobs x $RUNS runs, one at a time)"
        P_SP50="" P_SP99="" P_QC50="" P_QC99=""
        for ((r = 0; r < RUNS; r++)); do
            v=$(timeout 300 "$DRV" spawn-latency --n 500 --runs 1 --fifo "$T/fifo")
            P_SP50+=" $(field 1 $v)" P_SP99+=" $(field 4 $v)"
            v=$(timeout 300 "$DRV" pickup --ep "$EP" --n 500 --runs 1 --fifo "$T/fifo")
            P_QC50+=" $(field 1 $v)" P_QC99+=" $(field 4 $v)"
        done
    fi
    stop_workers
    stop_broker
    need $A_ECHO $A_ENQ1 $A_ENQ4 $A_BATCH $A_SPAWN $A_E2E
}

# Rows for sections 1-3 from the A_* values; targets differ by durability
# (at FULL every single-job request waits for an fsync the echo never does,
# so the echo ratio is shown without a target).
core_rows() {
    local tag=$1 e2e_target=$2 ratio
    ratio=$(paired / "$A_ENQ1" "$A_ECHO")
    if [ -z "$tag" ]; then
        set -- ">= 0.75 x echo" "$(verdict "$ratio" ge 0.75)"
    else
        set -- "- (fsync per request)" "-"
    fi
    row "${tag}1 enqueue, 1 client, 1 job/request (jobs/s)" "$(fmt_int $A_ENQ1)" \
        "ZeroMQ REQ/REP echo: $(fmt_int $A_ECHO) round trips/s" "$(num "$ratio")" "$1" "$2"
    row "${tag}2a enqueue, batches of 1,000 (jobs/s)" "$(fmt_int $A_BATCH)" "-" "-" \
        ">= 250,000" "$(verdict "$(med $A_BATCH)" ge 250000)"
    ratio=$(paired / "$A_ENQ4" "$A_ENQ1")
    row "${tag}2b enqueue, 4 clients, 1 job/request (jobs/s)" "$(fmt_int $A_ENQ4)" \
        "1 client: $(int "$(med $A_ENQ1)")" "$(num "$ratio")" ">= 2.0 x 1 client" \
        "$(verdict "$ratio" ge 2)"
    e2e_row "$tag" "$e2e_target"
}

e2e_row() { # tag target: row 3 from A_E2E and A_SPAWN, and 3p (its CPU)
    local ratio secs
    ratio=$(paired / "$A_E2E" "$A_SPAWN")
    secs=$(awk -v r="$(med $A_E2E)" 'BEGIN {printf "%.2f", 5000 / r}')
    row "${1}3 end to end, 5,000 x \`true\`, 2 workers (jobs/s; ${secs} s at the median)" \
        "$(fmt_int $A_E2E)" "posix_spawn \`sh -c true\`, 2 in parallel: $(fmt_int $A_SPAWN)/s" \
        "$(num "$ratio")" ">= $2 x spawn" "$(verdict "$ratio" ge "$2")"
    cpu_row "$1" e2e 3 "$2" "$A_E2E" "$A_SPAWN"
}
cpu_reset() { local k; for k in "${!CPU[@]}"; do [[ $k != "$1".* ]] || unset "CPU[$k]"; done; }

# 3g: growth. On a fresh broker with 2 workers, each size once (100,000 jobs
# take minutes), right after a 5,000-job run on the same broker: the ratio
# is the 5,000-job run's cost per job over this size's (its jobs/s over the
# 5,000 run's), 1 when the cost per job stays flat. Both runs' CPU per job
# besides the shells (broker, workers, guards, PostgreSQL's server, driver)
# is shown too: load on the machine moves jobs/s, not CPU per job. Sets
# G_RATE[SIZE].
declare -A G_RATE=()
G_SIZES=${QC_BENCH_GROWTH:-10000 100000} # on SQLite
# CPU us per job of KEY's last run besides the shells, and the broker's alone.
cpu_overhead() {
    local k=$1
    awk -v b="${CPU[$k.broker]##* }" -v w="${CPU[$k.workers]##* }" -v g="${CPU[$k.guards]##* }" \
        -v p="${CPU[$k.pg]##* }" -v d="${CPU[$k.driver]##* }" 'BEGIN {print b + w + g + p + d, b}'
}
measure_growth() { # label tag sizes...
    local label=$1 tag=$2 n base v ratio secs o5 b5 on bn
    shift 2
    G_RATE=()
    start_broker "growth-$label"
    start_workers 2
    for n in "$@"; do
        log "$label: growth, 5,000 then $(int "$n") x true on 2 workers (once each)"
        cpu_reset g5
        cpu_reset gn
        e2e_cpu g5 --n 5000 --batch 1000 --timeout 240
        base=$RATE
        e2e_cpu gn --n "$n" --batch 1000 --timeout $((n / 20 + 300))
        v=$RATE
        G_RATE[$n]=$v
        read -r o5 b5 <<<"$(cpu_overhead g5)"
        read -r on bn <<<"$(cpu_overhead gn)"
        ratio=$(awk -v a="$v" -v b="$base" 'BEGIN {print a / b}')
        secs=$(awk -v n="$n" -v r="$v" 'BEGIN {printf "%.1f", n / r}')
        row "${tag}3g end to end, $(int "$n") x \`true\`, 2 workers, run once (jobs/s; $secs s; CPU µs/job besides shells, of it broker)" \
            "$(int "$v"); CPU $(int "$on"), broker $(int "$bn")" \
            "5,000 just before, same broker: $(int "$base")/s; CPU $(int "$o5"), broker $(int "$b5")${A_E2E:+ (row 3: $(int "$(med $A_E2E)")/s)}" \
            "$(num "$ratio") (CPU $(num "$(awk -v a="$o5" -v b="$on" 'BEGIN {print a / b}')"))" \
            ">= 0.90 (cost per job flat)" "$(verdict "$ratio" ge 0.9)"
    done
    stop_workers
    stop_broker
}

# 3w: many running. 8 workers x --concurrency 4 (32 slots) run N x
# `sleep 0.01`, against posix_spawn of the same command 32 at a time, run
# by run; with the CPU per job (row 3wp) of the queuectl runs. Sets W_QC.
W_N=${QC_BENCH_MANY_N:-5000}
((W_N > 0 && W_N % 1000 == 0)) || die "QC_BENCH_MANY_N must be a multiple of 1,000 (batches of 1,000)"
measure_many() { # label tag
    local label=$1 tag=$2 r ratio
    W_QC="" W_SPAWN=""
    cpu_reset many
    log "$label: many running, $(int "$W_N") x sleep 0.01 on 8 workers x 4 vs posix_spawn, 32 in parallel ($RUNS runs)"
    start_broker "many-$label"
    start_workers 8 4
    for ((r = 0; r < RUNS; r++)); do
        spawn_cpu many --n "$W_N" --par 32 --command 'sleep 0.01'
        W_SPAWN+=" $RATE"
        e2e_cpu many --n "$W_N" --batch 1000 --timeout 600 --command 'sleep 0.01'
        W_QC+=" $RATE"
    done
    stop_workers
    stop_broker
    need $W_QC $W_SPAWN
    ratio=$(paired / "$W_QC" "$W_SPAWN")
    row "${tag}3w many running: $(int "$W_N") x \`sleep 0.01\`, 8 workers x \`--concurrency 4\` (jobs/s)" \
        "$(fmt_int $W_QC)" "posix_spawn \`sh -c 'sleep 0.01'\`, 32 in parallel: $(fmt_int $W_SPAWN)/s" \
        "$(num "$ratio")" ">= 0.80 x spawn" "$(verdict "$ratio" ge 0.8)"
    cpu_row "$tag" many 3w 0.80 "$W_QC" "$W_SPAWN"
}

log "machine: $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), load $(cut -d' ' -f1-3 /proc/loadavg)"

# 3m: mixed lengths. One 6 s job and then 200 x 10 ms jobs on 3 one-slot
# workers, against the same 200 jobs alone on 2 workers (the slots left to
# them): a short job must never wait behind the long one.
measure_mixed() {
    local r
    M_BASE="" M_MIX=""
    log "mixed lengths: 1 x sleep 6 then 200 x sleep 0.01 on 3 workers vs the 200 alone on 2 ($RUNS runs)"
    start_broker mixed
    for ((r = 0; r < RUNS; r++)); do
        start_workers 2
        M_BASE+=" $(drv1 mixed --ep "$EP" --n 200 --count 0 --secs 6 --runs 1 --timeout 120)"
        stop_workers
        start_workers 3
        M_MIX+=" $(drv1 mixed --ep "$EP" --n 200 --count 1 --secs 6 --runs 1 --timeout 120)"
        stop_workers
    done
    stop_broker
    need $M_BASE $M_MIX
    local ratio
    ratio=$(paired / "$M_MIX" "$M_BASE")
    row "3m mixed lengths: 200 x 10 ms behind one 6 s job, 3 one-slot workers (s until the 200 are done)" \
        "$(fmt_dec 2 $M_MIX)" "the 200 alone on 2 workers: $(fmt_dec 2 $M_BASE) s" "$(num "$ratio")" \
        "<= 1.25 x" "$(verdict "$ratio" le 1.25)"
}

# 3c: a chain of 1,000 dependent `true` jobs (each enqueued "after" the one
# before, one batch) on 2 workers, against the e2e rate of row 3: each
# completion must release the next through the dependents index.
measure_chain() {
    local r
    C_CHAIN="" C_E2E=""
    log "chain: 1,000 x true, each after the one before, on 2 workers vs e2e ($RUNS runs)"
    start_broker chain
    start_workers 2
    for ((r = 0; r < RUNS; r++)); do
        C_E2E+=" $(drv1 e2e --ep "$EP" --n 1000 --batch 1000 --runs 1 --timeout 240)"
        C_CHAIN+=" $(drv1 chain --ep "$EP" --n 1000 --runs 1 --timeout 240)"
    done
    stop_workers
    stop_broker
    need $C_CHAIN $C_E2E
    local ratio
    ratio=$(paired / "$C_CHAIN" "$C_E2E")
    row "3c chain of 1,000 dependent \`true\` jobs, 2 workers (completions/s)" "$(fmt_int $C_CHAIN)" \
        "1,000 independent: $(fmt_int $C_E2E)/s" "$(num "$ratio")" "-" "-"
}

# QC_BENCH_QUICK=1: only end to end (row 3), mixed lengths (row 3m) and the
# chain (row 3c; QC_BENCH_NO_CHAIN=1 leaves it out), for comparing builds
# quickly (QC_BENCH_BIN=DIR).
print_rows() {
    printf '\n| figure | queuectl | baseline | ratio | target | result |\n|---|---|---|---|---|---|\n'
    printf '%s\n' "${ROWS[@]}"
}

# PostgreSQL 15 (fsync on) for section 8: a throw-away cluster in $T/pg;
# brokers started while BENCH_PG is set get a fresh database in it.
pg_begin() {
    # shellcheck source=tests/pg/lib.sh
    . "$ROOT/tests/pg/lib.sh"
    log "postgresql: starting a throw-away PostgreSQL 15 cluster (fsync on)"
    chmod 0711 "$T" # the postgres user needs to reach $T/pg
    pg_start "$T/pg" "fsync = on" "full_page_writes = on" "shared_buffers = 128MB" \
        "max_wal_size = 1GB" >/dev/null || die "PostgreSQL did not start"
    BENCH_PG=1
}
pg_end() {
    pg_stop "$PG_DIR"
    PG_DIR=""
    BENCH_PG=""
}
# 3g at 100,000 jobs on PostgreSQL only with QC_BENCH_PG_100K=1; otherwise a
# row saying why not, with the time it would take at the 10,000 rate.
pg_growth() { # label tag
    if [ -n "${QC_BENCH_PG_100K:-}" ]; then
        measure_growth "$1" "$2" 10000 100000
    else
        measure_growth "$1" "$2" 10000
        row "${2}3g end to end, 100,000 x \`true\`, 2 workers" "not run" \
            "at the 10,000 rate ($(int "${G_RATE[10000]}")/s) it would take $(awk -v r="${G_RATE[10000]}" \
                'BEGIN {printf "%.0f", 100000 / r}') s; QC_BENCH_PG_100K=1 runs it" "-" "-" "-"
    fi
}

A_E2E="" A_SPAWN="" W_QC=""

# QC_BENCH_ONLY="ROWS... [sqlite] [pg]": only the named rows among e2e (3
# and its CPU, 3p), growth (3g: 10,000 and 100,000 jobs; 10,000 on
# PostgreSQL unless QC_BENCH_PG_100K=1) and many (3w and its CPU, 3wp), on
# the backends named (SQLite when none is), e.g. "growth many sqlite pg".
if [ -n "${QC_BENCH_ONLY:-}" ]; then
    only() { [[ " $QC_BENCH_ONLY " == *" $1 "* ]]; }
    only_rows() { # label tag e2e-target growth-function
        A_SPAWN="" A_E2E=""
        if only e2e; then
            cpu_reset e2e
            log "$1: end to end, 5,000 x true on 2 workers vs posix_spawn, 2 in parallel ($RUNS runs)"
            start_broker "e2e-$1"
            start_workers 2
            e2e_runs
            stop_workers
            stop_broker
            need $A_SPAWN $A_E2E
            e2e_row "$2" "$3"
        fi
        ! only growth || $4 "$1" "$2"
        ! only many || measure_many "$1" "$2"
    }
    # shellcheck disable=SC2086 # the sizes are words
    sqlite_growth() { measure_growth "$1" "$2" $G_SIZES; }
    if only sqlite || ! only pg; then
        only_rows default "" 0.90 sqlite_growth
    fi
    if only pg; then
        [ -x /usr/lib/postgresql/15/bin/initdb ] || die "PostgreSQL 15 is not installed"
        pg_begin
        only_rows postgresql "8 PostgreSQL: " 0.80 pg_growth
        pg_end
    fi
    print_rows
    exit 0
fi

if [ -n "${QC_BENCH_QUICK:-}" ]; then
    A_SPAWN="" A_E2E=""
    cpu_reset e2e
    log "quick: end to end, 5,000 x true on 2 workers vs posix_spawn, 2 in parallel ($RUNS runs)"
    start_broker e2e-quick
    start_workers 2
    e2e_runs
    stop_workers
    stop_broker
    need $A_SPAWN $A_E2E
    e2e_row "" 0.90
    measure_mixed
    # A build from before dependencies existed can't run the chain.
    [ -n "${QC_BENCH_NO_CHAIN:-}" ] || measure_chain
    print_rows
    exit 0
fi

# 1-4 with the default durability (synchronous=NORMAL).
measure_core default
D_ENQ1=$A_ENQ1 D_BATCH=$A_BATCH D_ENQ4=$A_ENQ4 D_E2E=$A_E2E
core_rows "" 0.90
measure_mixed
measure_chain
D_G10="" D_W=""
if ! skip growth; then
    # shellcheck disable=SC2086 # the sizes are words
    measure_growth default "" $G_SIZES
    D_G10=${G_RATE[10000]:-}
fi
if ! skip many; then
    measure_many default ""
    D_W=$W_QC
fi
need $P_QC50 $P_SP50 $P_QC99 $P_SP99
# The driver reports microseconds; the table shows milliseconds.
ms() { local v out=""; for v in "$@"; do out+=" $(awk -v u="$v" 'BEGIN {print u / 1000}')"; done; echo $out; }
P_QC50=$(ms $P_QC50) P_SP50=$(ms $P_SP50) P_QC99=$(ms $P_QC99) P_SP99=$(ms $P_SP99)
diff=$(paired - "$P_QC50" "$P_SP50")
row "4a pickup latency p50, enqueue ack -> job's shell running (ms)" "$(fmt_dec 2 $P_QC50)" \
    "bare posix_spawn -> shell running: $(fmt_dec 2 $P_SP50)" "$(printf '%+.2f' "$diff") ms" \
    "<= +0.10 ms" "$(verdict "$diff" le 0.10)"
row "4b pickup latency p99 (ms)" "$(fmt_dec 2 $P_QC99)" "bare spawn p99: $(fmt_dec 2 $P_SP99)" \
    "$(printf '%+.2f' "$(paired - "$P_QC99" "$P_SP99")") ms" "< 2 ms" \
    "$(verdict "$(med $P_QC99)" lt 2)"

# 5: memory, status and list at size, restart after SIGKILL.
if ! skip mem; then
log "memory: filling $FILL jobs in batches of 1,000 (no workers)"
start_broker mem
RSS0=$(rss_kib "$BROKER_PID")
FILL1=$((FILL / 10))
v=$(timeout 600 "$DRV" fill --ep "$EP" --n "$FILL1" --batch 1000)
F1_RATE=$(field 2 $v)
RSS1=$(rss_kib "$BROKER_PID")
v=$(timeout 600 "$DRV" fill --ep "$EP" --n $((FILL - FILL1)) --batch 1000)
F2_RATE=$(field 2 $v)
RSS2=$(rss_kib "$BROKER_PID")
log "memory: status and list --limit 50 latency at $FILL jobs"
v=$(timeout 120 "$DRV" req-latency --ep "$EP" --request '{"op":"status"}' --runs 9)
read -r ST_M ST_LO ST_HI <<<"$v"
v=$(timeout 120 "$DRV" req-latency --ep "$EP" --request '{"op":"list","limit":50}' --runs 9)
read -r LS_M LS_LO LS_HI <<<"$v"
log "memory: dispatch rate at $FILL pending: 2 workers, the next 200 completions (at most 30 s)"
start_workers 2
v=$(timeout 120 "$DRV" drain --ep "$EP" --n 200 --timeout 30)
DR_RATE=$(field 1 $v) DR_N=$(field 2 $v) DR_S=$(field 3 $v)
stop_workers
log "memory: SIGKILL, then restart -> first ping ($RUNS restarts, each ended by SIGKILL)"
exec 3>&2 2>/dev/null # bash reports a SIGKILLed job on its own stderr: not here
kill -KILL "$BROKER_PID"
wait "$BROKER_PID" || true
exec 2>&3 3>&-
forget_pid "$BROKER_PID"
v=$(QUEUECTL_HOME=$HOMEDIR timeout 300 "$DRV" restart --ep "$EP" --runs "$RUNS" -- \
    "$BROKER" --log-level warn 2>>"$T/mem.log")
read -r RS_M RS_LO RS_HI <<<"$v"
need "$RSS0" "$RSS1" "$RSS2" "$F1_RATE" "$F2_RATE" "$ST_M" "$LS_M" "$RS_M" "$DR_RATE"
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
row "5a broker RSS, empty (MiB)" "$(mib "$RSS0")" "-" "-" "-" "-"
row "5b broker RSS, $(int $FILL1) pending (MiB)" "$(mib "$RSS1")" \
    "fill: $(int "$F1_RATE") jobs/s" "-" "-" "-"
row "5c broker RSS, $(int "$FILL") pending (MiB)" "$(mib "$RSS2")" \
    "fill from $(int $FILL1): $(int "$F2_RATE") jobs/s" "-" "< 16 MiB" \
    "$(verdict "$RSS2" lt 16384)"
row "5d \`status\` latency, $(int "$FILL") jobs (ms)" \
    "$(num "$ST_M") ($(num "$ST_LO")-$(num "$ST_HI"))" "-" "-" "< 20 ms" "$(verdict "$ST_M" lt 20)"
row "5e \`list --limit 50\` latency, $(int "$FILL") jobs (ms)" \
    "$(num "$LS_M") ($(num "$LS_LO")-$(num "$LS_HI"))" "-" "-" "< 20 ms" "$(verdict "$LS_M" lt 20)"
row "5f dispatch at $(int "$FILL") pending, 2 workers: completions/s ($DR_N in ${DR_S} s)" \
    "$(num "$DR_RATE" 1)" "end to end on an empty queue (row 3): $(int "$(med $D_E2E)")" \
    "$(num "$(awk -v a="$DR_RATE" -v b="$(med $D_E2E)" 'BEGIN {print a / b}')")" "-" "-"
row "5g restart after SIGKILL, $(int "$FILL") jobs: spawn -> first ping answered (ms)" \
    "$(num "$RS_M" 1) ($(num "$RS_LO" 1)-$(num "$RS_HI" 1))" "-" "-" "< 500 ms" \
    "$(verdict "$RS_M" lt 500)"
rm -rf "$HOMEDIR" # 150+ MB
fi

# 6: 1-3 again at synchronous=FULL.
if ! skip full; then
measure_core full --synchronous full
F_ENQ1=$A_ENQ1 F_BATCH=$A_BATCH F_ENQ4=$A_ENQ4 F_E2E=$A_E2E
core_rows "6 FULL: " 0.80
fi

# 8: PostgreSQL 15 (fsync on), same work, then the failover time.
PG_NOTE=""
if ! skip pg && [ -x /usr/lib/postgresql/15/bin/initdb ]; then
    pg_begin
    measure_core postgresql
    G_ENQ1=$A_ENQ1 G_BATCH=$A_BATCH G_ENQ4=$A_ENQ4 G_E2E=$A_E2E
    core_rows "8 PostgreSQL: " 0.80
    G_G10="" G_W=""
    if ! skip growth; then
        pg_growth postgresql "8 PostgreSQL: "
        G_G10=${G_RATE[10000]:-}
    fi
    if ! skip many; then
        measure_many postgresql "8 PostgreSQL: "
        G_W=$W_QC
    fi
    for q in 1 b 4 e g w; do
        case $q in
        1) set -- "1 enqueue, 1 client" "$G_ENQ1" "$D_ENQ1" ;;
        b) set -- "2a batches of 1,000" "$G_BATCH" "$D_BATCH" ;;
        4) set -- "2b 4 clients" "$G_ENQ4" "$D_ENQ4" ;;
        e) set -- "3 end to end" "$G_E2E" "$D_E2E" ;;
        g) set -- "3g end to end, 10,000 jobs, run once" "$G_G10" "$D_G10" ;;
        w) set -- "3w many running" "$G_W" "$D_W" ;;
        esac
        [ -n "$2" ] && [ -n "$3" ] || continue # a section left out
        row "8 PostgreSQL vs SQLite (default): $1 (jobs/s)" "$(fmt_int $2)" \
            "SQLite: $(fmt_int $3)" "$(num "$(paired / "$2" "$3")")" "-" "-"
    done
    log "postgresql: failover, 2 brokers (--liveness 3s, the default), kill -9 the active -> first completion ($RUNS runs)"
    FO_TAKE="" FO_FIRST=""
    for ((r = 0; r < RUNS; r++)); do
        db=b_failover_$r
        pg_createdb "$db"
        mkdir -p -m 700 "$T/foa$r" "$T/fob$r"
        for h in a b; do
            QUEUECTL_HOME=$T/fo$h$r QUEUECTL_DB=$(pg_uri "$db") "$BROKER" --log-level warn \
                --events-endpoint none >>"$T/fo$h$r.log" 2>&1 &
            PIDS+=($!)
            [ $h = a ] && { FO_A=$!; "$DRV" ping --ep "ipc://$T/foa$r/client.sock" --timeout 10 ||
                die "failover broker did not start"; }
        done
        WEP="ipc://$T/foa$r/worker.sock,ipc://$T/fob$r/worker.sock"
        for w in 1 2; do
            "$WORKER" --broker "$WEP" --concurrency 1 --log-level warn >>"$T/worker.log" 2>&1 &
            WORKER_PIDS+=($!) PIDS+=($!)
        done
        "$DRV" wait-workers --ep "ipc://$T/foa$r/client.sock" --count 2 --timeout 10 ||
            die "failover workers did not register"
        # 5,000 x true: about 4 s of work, so the kill finds jobs running and waiting.
        "$DRV" fill --ep "ipc://$T/foa$r/client.sock" --n 5000 --batch 1000 >/dev/null
        sleep 0.3
        kill -KILL "$FO_A"
        wait "$FO_A" 2>/dev/null || true
        t_kill=$(( $(date +%s%N) / 1000000 )) # after it is gone: its last commits came before
        forget_pid "$FO_A"
        "$DRV" ping --ep "ipc://$T/fob$r/client.sock" --timeout 15 || die "no takeover"
        t_up=$(( $(date +%s%N) / 1000000 ))
        first=""
        for ((i = 0; i < 300; i++)); do
            first=$(pg_sql "$db" "SELECT min(updated_at) FROM jobs WHERE state = 2 AND updated_at > $t_kill")
            [ -n "$first" ] && break
            sleep 0.05
        done
        [ -n "$first" ] || die "no completion after the failover"
        FO_TAKE+=" $((t_up - t_kill))" FO_FIRST+=" $((first - t_kill))"
        stop_workers
        for p in "${PIDS[@]}"; do stop_pid "$p"; done
    done
    need $FO_TAKE $FO_FIRST
    row "8 PostgreSQL failover: kill -9 the active broker -> first completion on the other (ms)" \
        "$(fmt_int $FO_FIRST)" "-> the other answers: $(fmt_int $FO_TAKE) ms" "-" "< 5,000 (takeover)" \
        "$(verdict "$(med $FO_TAKE)" lt 5000)"
    pg_end
elif ! skip pg; then
    PG_NOTE="PostgreSQL 15 is not installed (scripts/deps.sh installs it)"
fi

# 7: beanstalkd with its binlog, same work.
BS_NOTE=""
skip beanstalkd && QC_BENCH_NO_BEANSTALKD=1
if [ -z "${QC_BENCH_NO_BEANSTALKD:-}" ] && ! command -v beanstalkd >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        log "beanstalkd: installing the Debian package"
        timeout 300 env DEBIAN_FRONTEND=noninteractive apt-get install -y -q beanstalkd \
            >"$T/apt.log" 2>&1 || BS_NOTE="apt-get install beanstalkd failed"
    else
        BS_NOTE="beanstalkd is not installed (and not root, so not installed here)"
    fi
fi
[ -z "${QC_BENCH_NO_BEANSTALKD:-}" ] || BS_NOTE="skipped (QC_BENCH_NO_BEANSTALKD)"

start_beanstalkd() { # name [flags]: fresh binlog dir; sets BS_ADDR, BS_PID
    local name=$1 port
    shift
    mkdir -p "$T/$name"
    port=$("$DRV" freeport)
    beanstalkd -l 127.0.0.1 -p "$port" -b "$T/$name" "$@" >>"$T/$name.log" 2>&1 &
    BS_PID=$!
    PIDS+=("$BS_PID")
    BS_ADDR=127.0.0.1:$port
    local i
    for ((i = 0; i < 100; i++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.05
    done
    die "beanstalkd did not start"
}

# targets: "B 4 E", the least ratio to beanstalkd for batches, 4 clients and
# end to end (issue 14), or "- - -" for none.
measure_beanstalkd() { # label targets qc-enq1 qc-batch qc-enq4 qc-e2e [beanstalkd flags]
    local label=$1 targets=($2) q1=$3 qb=$4 q4=$5 qe=$6 r
    shift 6
    local b1="" bb="" b4="" be=""
    log "beanstalkd $label: put, 1 client / pipelined 1,000 / 4 clients; end to end ($RUNS runs)"
    start_beanstalkd "bs-enq-$label" "$@"
    for ((r = 0; r < RUNS; r++)); do
        b1+=" $(drv1 bs-enqueue --addr "$BS_ADDR" --n 40000 --secs $SECS --runs 1)"
        bb+=" $(drv1 bs-enqueue --addr "$BS_ADDR" --n 400000 --secs $SECS --runs 1 --batch 1000)"
        b4+=" $(drv1 bs-enqueue --addr "$BS_ADDR" --n 80000 --secs $SECS --runs 1 --clients 4)"
    done
    stop_pid "$BS_PID"
    start_beanstalkd "bs-e2e-$label" "$@"
    for ((r = 0; r < RUNS; r++)); do
        be+=" $(drv1 bs-e2e --addr "$BS_ADDR" --n 5000 --batch 1000 --workers 2 --runs 1 --timeout 240)"
    done
    stop_pid "$BS_PID"
    need $b1 $bb $b4 $be
    local q ratio target verdict
    for q in 1 b 4 e; do
        case $q in
        1) set -- "put, 1 client, 1 job/request" "$q1" "$b1" - ;;
        b) set -- "put, pipelined 1,000 per write (queuectl: batch of 1,000)" "$qb" "$bb" "${targets[0]}" ;;
        4) set -- "put, 4 clients, 1 job/request" "$q4" "$b4" "${targets[1]}" ;;
        e) set -- "end to end, 5,000 x \`true\`, 2 workers" "$qe" "$be" "${targets[2]}" ;;
        esac
        ratio=$(paired / "$2" "$3")
        target=- verdict=-
        if [ "$4" != - ]; then
            target=">= $4 x beanstalkd" verdict=$(verdict "$ratio" ge "$4")
        fi
        row "7 $label: $1 (jobs/s)" "$(fmt_int $2)" "beanstalkd: $(fmt_int $3)" \
            "$(num "$ratio")" "$target" "$verdict"
    done
}

if [ -z "$BS_NOTE" ]; then
    measure_beanstalkd "default vs -b DIR" "1.3 1.0 1.1" "$D_ENQ1" "$D_BATCH" "$D_ENQ4" "$D_E2E"
    skip full ||
        measure_beanstalkd "FULL vs -b DIR -f0" "- - -" "$F_ENQ1" "$F_BATCH" "$F_ENQ4" "$F_E2E" -f0
fi

# ---------------------------------------------------------------- report
SQLITE_V=$(pkg-config --modversion sqlite3)
ZMQ_V=$(pkg-config --modversion libzmq)
BS_V=$(beanstalkd -v 2>/dev/null | awk '{print $2}' || true)
cat <<EOF

## queuectl benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(git rev-parse --short HEAD 2>/dev/null || echo "?"))

Machine: $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), kernel $(uname -r),
load average at the end $(cut -d' ' -f1-3 /proc/loadavg); SQLite $SQLITE_V, libzmq $ZMQ_V${BS_V:+, beanstalkd $BS_V}.
$([ -n "${QC_BENCH_BIN:-}" ] && echo "Binaries from $QC_BENCH_BIN" || echo "Release build"); broker flags as shipped (ipc sockets, events socket on), \`--log-level warn\`.
Each figure: median of $RUNS runs (min-max); ratios are the median of per-run ratios
against the baseline measured just before each run. End to end is measured with the
2 workers (\`--concurrency 1\` each) already running: the clock runs from the first
enqueue (batches of 1,000) until nothing is pending or running. Pickup latency includes
/bin/sh startup on both sides (the job is \`echo s > FIFO\`, a shell builtin).
Rows 3g run once each. Rows 3p and 3wp: CPU time per job by process, read from /proc
around each run (docs/PERFORMANCE.md, "How CPU per job is measured").

| figure | queuectl | baseline | ratio | target | result |
|---|---|---|---|---|---|
EOF
printf '%s\n' "${ROWS[@]}"
[ -z "$BS_NOTE" ] || printf '\n7 beanstalkd: %s.\n' "$BS_NOTE"
[ -z "$PG_NOTE" ] || printf '\n8 PostgreSQL: %s.\n' "$PG_NOTE"
echo
