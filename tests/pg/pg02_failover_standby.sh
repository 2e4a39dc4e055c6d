#!/usr/bin/env bash
# PostgreSQL itself fails over: a primary with a synchronous standby
# (pg_basebackup -R, synchronous_standby_names), brokers A (active) and B
# (passive) reaching them through one multi-host URI with
# target_session_attrs=read-write. While a client enqueues and two workers
# run jobs, the primary is SIGKILLed and the standby promoted; the brokers
# reconnect to it by themselves. Every acknowledged job is on the promoted
# standby (synchronous commit), and every job completes exactly once.
. "$(dirname "$0")/../fault/fault_lib.sh"
[ -n "${QC_PG_DIR:-}" ] || { echo "needs QC_PG_DIR (run through ctest -L pg)"; exit 77; }
FLAGS=(--liveness 2s --heartbeat 250ms)
d=$QUEUECTL_HOME
P=$(mktemp -d /tmp/qcpgp.XXXXXX) S=$(mktemp -d /tmp/qcpgs.XXXXXX)
trap 'rc=$?; set +e; pg_stop "$S"; pg_stop "$P"; rm -rf "$P" "$S"; f_keep; (exit $rc); qc_cleanup' EXIT

pg_start "$P" "wal_level = replica" "max_wal_senders = 4" || fail "primary did not start"
P_PORT=$PG_PORT P_PID=$PG_PID
pg_sql postgres "CREATE DATABASE qdb" >/dev/null
rmdir "$S" && mkdir -p "$S" && chmod 0777 "$S"
[ "$(id -u)" = 0 ] && chown postgres "$S"
pg_as "$PG_BIN/pg_basebackup" -h "$P" -p "$P_PORT" -U "$PG_ADMIN" -D "$S/data" -R -X stream -c fast \
    >"$S/basebackup.log" 2>&1 || { cat "$S/basebackup.log"; fail "pg_basebackup"; }
S_PORT=$(pg_free_port)
printf '%s\n' "port = $S_PORT" "unix_socket_directories = '$S'" "cluster_name = 'standby1'" \
    "synchronous_standby_names = ''" "wal_retrieve_retry_interval = '200ms'" | pg_as tee -a "$S/data/postgresql.conf" >/dev/null
pg_as "$PG_BIN/pg_ctl" -D "$S/data" -l "$S/server.log" -w -t 30 start >/dev/null ||
    { tail "$S/server.log"; fail "standby did not start"; }
PG_DIR=$P PG_PORT=$P_PORT
# Synchronous from now on (earlier, CREATE DATABASE would wait for a standby).
pg_sql postgres "ALTER SYSTEM SET synchronous_standby_names = 'standby1'" >/dev/null
pg_sql postgres "SELECT pg_reload_conf()" >/dev/null
sync_standby() { [ "$(pg_sql postgres "SELECT sync_state FROM pg_stat_replication")" = sync ]; }
wait_for 20 sync_standby
note "$(elapsed): primary on $P_PORT, synchronous standby on $S_PORT"

export QUEUECTL_DB="postgresql:///qdb?host=$P,$S&port=$P_PORT,$S_PORT&user=$PG_ADMIN&target_session_attrs=read-write"
fo_setup
fo_start a "${FLAGS[@]}"
wait_for 10 fo_answers a
fo_start b "${FLAGS[@]}"
qc config set backoff-base 1 >/dev/null
for w in 1 2; do start_worker --broker "$FO_WORKER_EP" --concurrency 2 --name "w$w"; done
wait_for 10 workers_are 2
$QCF enqueue "$FO_CLIENT_EP" 0 600 3 150 "{slow}echo {id} >> $d/ran.log" "$d/acked.0" 90 6 &
client=$!
QC_PIDS+=($client)

sleep_ms 1500
acked_before=$(wc -l <"$d/acked.0")
t_kill=$(now_ms)
note "$(elapsed): kill -9 the primary (pid $P_PID; acknowledged so far: $acked_before), promote the standby"
kill -KILL "$P_PID"
pg_as "$PG_BIN/pg_ctl" -D "$S/data" -w -t 30 promote >/dev/null || fail "promote"
note "$(elapsed): standby promoted after $(( $(now_ms) - t_kill )) ms"
PG_DIR=$S PG_PORT=$S_PORT
first=""
for _ in $(seq 300); do
    first=$(pg_sql qdb "SELECT min(updated_at) FROM jobs WHERE state = 2 AND updated_at > $t_kill")
    [ -n "$first" ] && break
    sleep 0.05
done
[ -n "$first" ] || fail "no completion within 15 s of the kill"
note "first completion on the promoted standby $((first - t_kill)) ms after the kill"

reap "$client" || fail "the enqueue client failed"
total=$(wc -l <"$d/acked.0")
wait_for 60 count_is completed 600
count_is processing 0 || fail "jobs left processing"
snap=$d/snapshot.db
pg_snapshot_sqlite qdb "$snap"
$QCF verify --forbid "no free slot" "$snap" "$d/ran.log" "$d/acked.0" || fail "end state (above)"
note "ok in $(elapsed) ($total acknowledged)"
