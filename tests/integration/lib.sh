# Shared helpers for integration tests: a fresh QUEUECTL_HOME per test, real
# broker and worker processes, waits on conditions with deadlines, and
# clean-up of exactly the processes the test started.
set -euo pipefail

: "${QC_BIN:?QC_BIN must point at the build directory}"
QUEUECTL="$QC_BIN/queuectl"
BROKER="$QC_BIN/queuectl-broker"
WORKER="$QC_BIN/queuectl-worker"
PY=/usr/bin/python3 # Debian's python3, which has python3-zmq

# Short path: ipc socket paths are limited to 107 bytes.
QUEUECTL_HOME=$(mktemp -d /tmp/qct.XXXXXX)
export QUEUECTL_HOME
unset QUEUECTL_BROKER QUEUECTL_WORKER_BROKER QUEUECTL_DB
# QC_PG_DIR (the "pg" label's runs): the same test on a fresh database of the
# PostgreSQL the group started (tests/pg/server.sh); every broker started,
# by the test or by the CLI, finds it through QUEUECTL_DB.
if [ -n "${QC_PG_DIR:-}" ]; then
    . "$(dirname "${BASH_SOURCE[0]}")/../pg/lib.sh"
    pg_env_load "$QC_PG_DIR"
    QC_PG_DB="t_$(basename "$0" .sh)_$$"
    pg_createdb "$QC_PG_DB"
    QUEUECTL_DB=$(pg_uri "$QC_PG_DB")
    export QUEUECTL_DB
fi
export NO_COLOR=1
QC_PIDS=()

qc_cleanup() {
    local rc=$?
    local pid
    for pid in "${QC_PIDS[@]}" $(cat "$QUEUECTL_HOME"/broker.pid 2>/dev/null); do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${QC_PIDS[@]}" $(cat "$QUEUECTL_HOME"/broker.pid 2>/dev/null); do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    if [ $rc -ne 0 ]; then
        echo "--- test failed (rc=$rc); logs from $QUEUECTL_HOME:" >&2
        for f in "$QUEUECTL_HOME"/*.log "$QUEUECTL_HOME"/logs/*.log; do
            [ -f "$f" ] && { echo "=== $f" >&2; tail -n 40 "$f" >&2; }
        done
    fi
    rm -rf "$QUEUECTL_HOME"
    [ -n "${QC_PG_DB:-}" ] && pg_sql postgres "DROP DATABASE IF EXISTS \"$QC_PG_DB\" WITH (FORCE)" >/dev/null 2>&1
    exit $rc
}
trap qc_cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*"; }

qc() { "$QUEUECTL" "$@"; }

# wait_for SECONDS CMD...: polls CMD every 50 ms until it succeeds.
wait_for() {
    local seconds=$1; shift
    local deadline=$(( $(date +%s%N) / 1000000 + seconds * 1000 ))
    while ! "$@" >/dev/null 2>&1; do
        if [ $(( $(date +%s%N) / 1000000 )) -ge $deadline ]; then
            fail "timed out after ${seconds}s waiting for: $*"
        fi
        sleep 0.05
    done
}

# Starts a broker in the background with extra flags; waits until it answers.
start_broker() {
    "$BROKER" "$@" >>"$QUEUECTL_HOME/broker.log" 2>&1 &
    BROKER_PID=$!
    QC_PIDS+=("$BROKER_PID")
    wait_for 10 qc broker status
}

stop_broker() {
    kill -TERM "$BROKER_PID"
    wait "$BROKER_PID" || fail "broker exited with $? on SIGTERM"
}

kill9_broker() {
    kill -KILL "$BROKER_PID"
    wait "$BROKER_PID" 2>/dev/null || true
}

# Starts one worker in the background (extra flags passed on); sets WORKER_PID.
start_worker() {
    "$WORKER" "$@" >>"$QUEUECTL_HOME/worker.$#.$RANDOM.log" 2>&1 &
    WORKER_PID=$!
    QC_PIDS+=("$WORKER_PID")
}

# Starts N background workers through the CLI (returns once registered) and
# remembers their PIDs for clean-up.
start_workers_cli() {
    local pids
    pids=$(qc worker start --json --count "$@" | json "' '.join(str(p) for p in j['pids'])")
    for p in $pids; do QC_PIDS+=("$p"); done
}

# json EXPR: evaluates a Python expression over the JSON on stdin (bound to j).
json() { "$PY" -c "import json,sys; j=json.load(sys.stdin); r=($1); print(r if not isinstance(r,(dict,list)) else json.dumps(r))"; }

job_field() { qc show --json "$1" | json "j['$2']"; }
job_state() { job_field "$1" state; }
state_is() { [ "$(job_state "$1")" = "$2" ]; }
count_is() { [ "$(qc status --json | json "j['counts']['$1']")" = "$2" ]; }
workers_are() { [ "$(qc status --json | json "j['workers']")" = "$1" ]; }
# db_sql SQLITE_QUERY [PG_QUERY]: one query on the test's database, whichever
# backend runs (the PostgreSQL form defaults to the SQLite one).
db_sql() {
    if [ -n "${QC_PG_DB:-}" ]; then pg_sql "$QC_PG_DB" "${2:-$1}"
    else sqlite3 "$QUEUECTL_HOME/queue.db" "$1"; fi
}

# grep that reads all its input (grep -q exits early, and with pipefail the
# writer's broken pipe would fail the pipeline).
grep_q() { grep "$@" >/dev/null; }
# check RC NEEDLE ARGS...: queuectl ARGS exits RC and says NEEDLE on stderr
# (bad input: the flag or field named); the output is left in $QUEUECTL_HOME/out.
check() {
    local want=$1 needle=$2
    shift 2
    set +e; qc "$@" >"$QUEUECTL_HOME/out" 2>"$QUEUECTL_HOME/err"; local rc=$?; set -e
    [ $rc = "$want" ] || fail "queuectl $*: expected exit $want, got $rc ($(cat "$QUEUECTL_HOME/err"))"
    grep_q -F -- "$needle" "$QUEUECTL_HOME/err" || fail "queuectl $*: message lacks '$needle': $(cat "$QUEUECTL_HOME/err")"
    echo "# queuectl $* -> $rc: $(head -c 170 "$QUEUECTL_HOME/err")"
}

# raw_request JSON: sends one request on the client socket as it is (no CLI
# checks in the way) and prints the broker's reply.
raw_request() {
    "$PY" - "$1" <<'PY'
import os, sys, zmq
s = zmq.Context().socket(zmq.REQ); s.setsockopt(zmq.LINGER, 0)
s.connect("ipc://" + os.environ["QUEUECTL_HOME"] + "/client.sock")
s.send(sys.argv[1].encode())
if not s.poll(5000): sys.exit("no reply")
print(s.recv().decode())
PY
}
# raw_refused CODE NEEDLE JSON: the broker refuses JSON with CODE and a message containing NEEDLE.
raw_refused() {
    local reply
    reply=$(raw_request "$3")
    echo "$reply" | json "j['ok'] is False and j['error']['code'] == '$1' and '''$2''' in j['error']['message']" \
        | grep_q -x True || fail "broker should refuse $3 with $1 ('$2'): $reply"
    echo "# broker: $3 -> $1: $(echo "$reply" | json "j['error']['message']")"
}
# "Not there" checks that can fail: the test fails with MESSAGE if grep
# (or pgrep) finds a match, and also if it could not look at all (no such
# file, a bad pattern: exit status 2 or more), which "&& fail" would pass.
# none_found MESSAGE COMMAND...: COMMAND is a grep or a pgrep (exit 0:
# found, 1: none, more: could not look).
none_found() {
    local message=$1 rc=0
    shift
    "$@" >/dev/null || rc=$?
    [ $rc = 1 ] && return 0
    [ $rc = 0 ] && fail "$message"
    fail "$* could not look (exit $rc): $message"
}
grep_none() { none_found "$1" grep "${@:2}"; }   # grep_none MESSAGE GREP-ARGS... (no file: stdin)
pgrep_none() { none_found "$1" pgrep "${@:2}"; } # pgrep_none MESSAGE PGREP-ARGS...
