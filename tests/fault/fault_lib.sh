# shellcheck shell=bash
# Shared helpers for the fault tests, on top of the integration helpers
# (a fresh QUEUECTL_HOME, clean-up of exactly the processes we started).
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"

FAULT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
QCF="$PY $FAULT_DIR/qcfault.py"
CLIENT_EP="ipc://$QUEUECTL_HOME/client.sock"
T0=$(date +%s%N)

elapsed() { echo $(( ($(date +%s%N) - T0) / 1000000 ))ms; }

# Drops a PID we have reaped from QC_PIDS, so clean-up never signals a
# recycled PID that belongs to someone else.
forget_pid() {
    local keep=() p
    for p in "${QC_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    QC_PIDS=("${keep[@]}")
}

# rand_ms MIN MAX: a random number of milliseconds in [MIN, MAX].
rand_ms() { echo $(( $1 + RANDOM % ($2 - $1 + 1) )); }
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

broker_answers() { $QCF ping "$CLIENT_EP"; }

# SIGKILLs the broker we started and reaps it, so its data-dir lock is free.
kill9_broker_reap() {
    kill -KILL "$BROKER_PID"
    wait "$BROKER_PID" 2>/dev/null || true
    forget_pid "$BROKER_PID"
}

# Starts a broker again (same QUEUECTL_HOME, flags given) and waits until it answers.
restart_broker() {
    "$BROKER" "$@" >>"$QUEUECTL_HOME/broker.log" 2>&1 &
    BROKER_PID=$!
    QC_PIDS+=("$BROKER_PID")
    wait_for 10 broker_answers
}

# Waits for a background process we started and returns its exit code.
reap() {
    local rc=0
    wait "$1" || rc=$?
    forget_pid "$1"
    return $rc
}

# sql QUERY: one read-only query on the database (WAL: readers never block the broker).
sql() {
    if [ -n "${QC_PG_DB:-}" ]; then pg_sql "$QC_PG_DB" "$1"
    else sqlite3 -readonly -batch "$QUEUECTL_HOME/queue.db" "$1"; fi
}

# The SQLite file verify reads: the database itself, or on PostgreSQL (the
# "pg" label) a snapshot of its jobs and attempts.
verified_db() {
    if [ -n "${QC_PG_DB:-}" ]; then
        pg_snapshot_sqlite "$QC_PG_DB" "$QUEUECTL_HOME/snapshot.db"
        echo "$QUEUECTL_HOME/snapshot.db"
    else
        echo "$QUEUECTL_HOME/queue.db"
    fi
}

# The load of f01/f02: start_load SLOW_ONE_IN starts two clients, each
# enqueueing JOBS_PER_CLIENT jobs at most 200/s, one job in SLOW_ONE_IN
# taking 0.2 s; each job appends its id to $d/ran.log, each client its
# acknowledged ids to $d/acked.N. Their pids are in clients[].
start_load() {
    clients=()
    local c
    for c in 0 1; do
        $QCF enqueue "$CLIENT_EP" $c "$JOBS_PER_CLIENT" 4 200 \
            "{slow}echo {id} >> $d/ran.log" "$d/acked.$c" 60 "$1" &
        clients+=($!)
        QC_PIDS+=($!)
    done
}

# finish_load: waits for the clients, then for every job they enqueued to
# complete; stops the broker; checks the accounting (acknowledged, lost,
# completed twice, re-executed) with no worker ever displaced ("reconnected
# without it") or sent more jobs than its free slots ("no free slot").
finish_load() {
    local pid total=$(( ${#clients[@]} * JOBS_PER_CLIENT ))
    for pid in "${clients[@]}"; do reap "$pid" || fail "an enqueue client failed"; done
    note "$(elapsed): all enqueued; waiting for $total completions"
    wait_for 40 count_is completed "$total"
    note "$(elapsed): all completed"
    stop_broker
    forget_pid "$BROKER_PID"
    $QCF verify --forbid "worker reconnected without it" --forbid "no free slot" \
        "$(verified_db)" "$d/ran.log" "$d/acked.0" "$d/acked.1" || fail "end state (above)"
    [ -n "${QC_PG_DB:-}" ] || counts_match sql
}

# counts_match SQL_FN: SQLite's count rows (kept by the store, written with
# each commit) agree with the rows they count, after whatever crash or
# failed commit the test caused.
counts_match() {
    local wrong
    wrong=$($1 "SELECT s.state || ': counted ' || s.n || ', rows ' || (SELECT COUNT(*) FROM jobs
        WHERE state = s.state) FROM state_counts s
        WHERE s.n != (SELECT COUNT(*) FROM jobs WHERE state = s.state)")
    [ -z "$wrong" ] || fail "state_counts disagree with the jobs table: $wrong"
    wrong=$($1 "SELECT n || ' enqueued counted, ' || (SELECT COUNT(*) FROM jobs) || ' rows'
        FROM totals WHERE name = 'enqueued' AND n != (SELECT COUNT(*) FROM jobs)")
    [ -z "$wrong" ] || fail "totals: $wrong"
}

# The storage-fault tests (f05, f06). soft MESSAGE: a failed expectation
# that does not stop the test (storage_accounting fails it at the end).
problems=()
soft() { echo "FAIL: $*" >&2; problems+=("$*"); }

# committed_jobs PREFIX N: enqueues N jobs PREFIX-1..N (each echoes its id)
# before the fault, each acknowledged one listed in $d/committed; starts
# $d/refused empty.
committed_jobs() {
    : >"$d/committed"
    : >"$d/refused"
    local i
    for i in $(seq 1 "$2"); do
        qc enqueue --id "$1-$i" -- "echo $1-$i" >/dev/null || fail "enqueue $1-$i before the fault"
        echo "$1-$i" >>"$d/committed"
    done
}

# enqueue_recovers WHY: once a storage fault is over (WHY: "space was
# freed"), enqueue works again within 3 tries, without a restart; the job's
# id goes to $d/committed, the refusals before it are counted in tries.
enqueue_recovers() {
    tries=0
    until qc enqueue --id "after-$tries" -- "echo after" >/dev/null 2>"$d/err"; do
        tries=$((tries + 1))
        [ $tries -lt 3 ] || fail "enqueue still refused after $1: $(cat "$d/err")"
    done
    echo "after-$tries" >>"$d/committed"
}

# The end of f05/f06 (a storage fault): storage_accounting SQL_FN SECONDS
# waits for every job in $d/committed to complete, stops the broker, and
# checks with SQL_FN (a read-only query function) that the database is
# intact, every committed job completed, and no job refused with a storage
# error was stored; then that no soft expectation failed.
storage_accounting() {
    local sql_fn=$1 total
    total=$(wc -l <"$d/committed")
    wait_for "$2" count_is completed "$total"
    stop_broker
    forget_pid "$BROKER_PID"
    [ "$($sql_fn 'PRAGMA integrity_check')" = ok ] ||
        fail "integrity_check: $($sql_fn 'PRAGMA integrity_check' | head -3)"
    counts_match "$sql_fn"
    $sql_fn "SELECT id FROM jobs WHERE state = 2 ORDER BY id" >"$d/in_db"
    local missing ghosts
    missing=$(sort "$d/committed" | comm -23 - "$d/in_db")
    [ -z "$missing" ] || fail "committed jobs lost or not completed: $missing"
    # "storage: nothing was stored" must be true.
    ghosts=$(sort "$d/refused" | comm -12 - <($sql_fn "SELECT id FROM jobs ORDER BY id"))
    [ -z "$ghosts" ] || fail "jobs refused with a storage error are in the database: $ghosts"
    [ ${#problems[@]} = 0 ] || fail "${#problems[@]} expectation(s) failed (above)"
}

# QC_FAULT_KEEP=DIR keeps a copy of QUEUECTL_HOME's logs and database there
# (for diagnosis; the integration clean-up deletes the home).
f_keep() {
    [ -n "${QC_FAULT_KEEP:-}" ] || return 0
    mkdir -p "$QC_FAULT_KEEP"
    cp -r "$QUEUECTL_HOME"/. "$QC_FAULT_KEEP"/ 2>/dev/null || true
}
# set +e first: under errexit, "(exit 1)" would end the trap before clean-up.
trap 'rc=$?; set +e; f_keep; (exit $rc); qc_cleanup' EXIT
