#!/usr/bin/env bash
# What a pass costs PostgreSQL, counted by the broker itself: the metrics op's
# store_round_trips (every wait for the server) and store_transactions. Three
# workloads, each on a fresh broker and database: 1,000 single-job enqueue
# requests one after another, one batch of 1,000 jobs, and 1,000 `true` jobs
# run end to end by 2 workers of one slot each, then of 4 slots each; then
# 6 s idle with those workers connected. Prints round trips per job and
# per transaction, and fails above the bounds this tree meets with room to
# spare (a regression to a round trip per statement fails it).
. "$(dirname "$0")/../integration/lib.sh"
[ -n "${QC_PG_DIR:-}" ] || { echo "needs QC_PG_DIR (run through ctest -L pg)"; exit 77; }
N=${QC_RT_JOBS:-1000}
# Upper bounds, round trips per job (QC_RT_NO_BOUNDS=1 only prints).
MAX_SINGLE=${QC_RT_MAX_SINGLE:-1.5}
MAX_BATCH=${QC_RT_MAX_BATCH:-0.01}
MAX_E2E=${QC_RT_MAX_E2E:-4}

# rt WHAT ARGS...: runs a workload in Python against the broker and prints
# "round_trips transactions" it cost, less what reading the counter costs
# (measured after the workload: with jobs in a queue a reading costs more).
# Idle passes (heartbeats) while it runs are counted too.
rt() {
    "$PY" - "$@" <<'PY'
import json, os, sys, time, zmq
ctx = zmq.Context()
s = ctx.socket(zmq.REQ); s.setsockopt(zmq.LINGER, 0)
s.connect("ipc://" + os.environ["QUEUECTL_HOME"] + "/client.sock")
def call(req):
    s.send(json.dumps(req).encode())
    if not s.poll(60000): sys.exit("no reply to %s" % req["op"])
    r = json.loads(s.recv())
    if not r.get("ok"): sys.exit("%s failed: %s" % (req["op"], r))
    return r
def counters():
    m = call({"op": "metrics"})
    return m["store_round_trips"], m["store_transactions"], m["counts"]
what, n = sys.argv[1], int(sys.argv[2])
b = counters()
if what == "single":
    for i in range(n):
        call({"op": "enqueue", "job": {"command": "true"}})
elif what == "batch":
    call({"op": "enqueue", "jobs": [{"command": "true"} for _ in range(n)]})
elif what == "idle":
    time.sleep(n)
elif what == "e2e":
    call({"op": "enqueue", "jobs": [{"command": "true"} for _ in range(n)]})
    deadline = time.time() + 100
    while counters()[2]["completed"] < n:
        if time.time() > deadline: sys.exit("not all jobs completed")
        time.sleep(0.2)
c = counters(); d = counters()  # what one reading costs, in the state c was read in
print(c[0] - b[0] - (d[0] - c[0]), c[1] - b[1] - (d[1] - c[1]))
PY
}

# report NAME N RT TX MAX
report() {
    local per_job per_tx
    per_job=$(awk -v r="$3" -v n="$2" 'BEGIN { printf "%.3f", r / n }')
    per_tx=$(awk -v r="$3" -v t="$4" 'BEGIN { printf "%.2f", t ? r / t : 0 }')
    note "$1: $3 round trips in $4 transactions for $2 jobs: $per_job per job, $per_tx per transaction"
    [ -n "${QC_RT_NO_BOUNDS:-}" ] || awk -v a="$per_job" -v m="$5" 'BEGIN { exit !(a <= m) }' ||
        fail "$1: $per_job round trips per job, more than $5"
}

W_PIDS=()
workers() { # workers N FLAGS...: N workers, registered
    local i
    for i in $(seq "$1"); do start_worker "${@:2}"; W_PIDS+=("$WORKER_PID"); done
    wait_for 10 workers_are "$1"
}

fresh() { # a new database and broker for each workload
    local pid
    for pid in "${W_PIDS[@]}"; do kill -TERM "$pid"; wait "$pid" || true; done
    W_PIDS=()
    if [ -n "${BROKER_PID:-}" ]; then
        stop_broker
        pg_sql postgres "DROP DATABASE IF EXISTS \"$QC_PG_DB\" WITH (FORCE)" >/dev/null
    fi
    QC_PG_DB="${QC_PG_DB%_[0-9]}_$1"
    pg_createdb "$QC_PG_DB"
    QUEUECTL_DB=$(pg_uri "$QC_PG_DB")
    export QUEUECTL_DB
    start_broker --events-endpoint none
}

fresh 1
read -r r t < <(rt single "$N")
report "enqueue, one job per request" "$N" "$r" "$t" "$MAX_SINGLE"

fresh 2
read -r r t < <(rt batch "$N")
report "enqueue, one batch of $N" "$N" "$r" "$t" "$MAX_BATCH"

fresh 3
workers 2
read -r r t < <(rt e2e "$N")
report "end to end ($N true, 2 workers x 1 slot)" "$N" "$r" "$t" "$MAX_E2E"

fresh 4
workers 2 --concurrency 4
read -r r t < <(rt e2e "$N")
report "end to end ($N true, 2 workers x 4 slots)" "$N" "$r" "$t" "$MAX_E2E"

# Idle with the 2 workers heartbeating: a pass that touches nothing costs
# nothing, but the lease is renewed every quarter of it (3 s by default).
read -r r t < <(rt idle 6)
per_s=$(awk -v r="$r" 'BEGIN { printf "%.2f", r / 6 }')
note "idle, 2 workers: $r round trips in $t transactions in 6 s: $per_s per second"
[ -n "${QC_RT_NO_BOUNDS:-}" ] || awk -v a="$per_s" 'BEGIN { exit !(a <= 2) }' ||
    fail "idle: $per_s round trips per second, more than 2"
note "ok"
