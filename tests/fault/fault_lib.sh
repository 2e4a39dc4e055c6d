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

# QC_FAULT_KEEP=DIR keeps a copy of QUEUECTL_HOME's logs and database there
# (for diagnosis; the integration clean-up deletes the home).
f_keep() {
    [ -n "${QC_FAULT_KEEP:-}" ] || return 0
    mkdir -p "$QC_FAULT_KEEP"
    cp -r "$QUEUECTL_HOME"/. "$QC_FAULT_KEEP"/ 2>/dev/null || true
}
# set +e first: under errexit, "(exit 1)" would end the trap before clean-up.
trap 'rc=$?; set +e; f_keep; (exit $rc); qc_cleanup' EXIT
