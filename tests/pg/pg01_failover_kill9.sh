#!/usr/bin/env bash
# Failover after kill -9: brokers A and B on one PostgreSQL database, A
# active, B passive (it binds nothing). Two clients enqueue 1,200 jobs
# through both endpoints while two workers (connected to both) run them; the
# active broker is SIGKILLed twice (A, then B after A came back as passive).
# Each time the other takes over (the lease expires: --liveness 2s), adopts
# the running jobs as after a restart, and completes jobs again within 10 s.
# At the end: 0 acknowledged lost, every job completed exactly once in the
# database, nothing left processing.
. "$(dirname "$0")/../fault/fault_lib.sh"
[ -n "${QC_PG_DIR:-}" ] || { echo "needs QC_PG_DIR (run through ctest -L pg)"; exit 77; }
JOBS_PER_CLIENT=${QC_FAULT_JOBS:-600}
FLAGS=(--liveness 2s --heartbeat 250ms)
d=$QUEUECTL_HOME
fo_setup

fo_start a "${FLAGS[@]}"
wait_for 10 fo_answers a
fo_start b "${FLAGS[@]}"
wait_for 10 grep_q "passive: another broker is active" "$QUEUECTL_HOME/broker_b.log"
qc config set backoff-base 1 >/dev/null
for w in 1 2; do start_worker --broker "$FO_WORKER_EP" --concurrency 3 --name "w$w"; done
wait_for 10 workers_are 2

for c in 0 1; do
    $QCF enqueue "$FO_CLIENT_EP" $c "$JOBS_PER_CLIENT" 4 150 \
        "{slow}echo {id} >> $d/ran.log" "$d/acked.$c" 90 8 &
    clients+=($!)
    QC_PIDS+=($!)
done

completed() { qc status --json | json "j['counts']['completed']"; }
active=a passive=b
for k in 1 2; do
    sleep_ms "$(rand_ms 1200 2000)"
    before=$(completed)
    pid_var=FO_PID_$active
    note "$(elapsed): kill -9 broker $active (completed so far: $before)"
    kill -KILL "${!pid_var}"
    wait "${!pid_var}" 2>/dev/null || true
    t_kill=$(now_ms) # once it is gone: whatever it committed came before
    forget_pid "${!pid_var}"
    wait_for 10 fo_answers $passive
    t_up=$(now_ms)
    # The first completion recorded after the kill (by the new broker).
    first=""
    for _ in $(seq 200); do
        first=$(pg_sql "$QC_PG_DB" "SELECT min(updated_at) FROM jobs WHERE state = 2 AND updated_at > $t_kill")
        [ -n "$first" ] && break
        sleep 0.05
    done
    [ -n "$first" ] || fail "no completion within 10 s of the kill"
    note "failover $k: broker $passive answering after $((t_up - t_kill)) ms, first completion after $((first - t_kill)) ms"
    echo "$((t_up - t_kill)) $((first - t_kill))" >>"$d/failover.times"
    [ $((first - t_kill)) -le 10000 ] || fail "first completion $((first - t_kill)) ms after the kill"
    # The killed one comes back, passive.
    fo_start $active "${FLAGS[@]}"
    tmp=$active active=$passive passive=$tmp
done

for pid in "${clients[@]}"; do reap "$pid" || fail "an enqueue client failed"; done
total=$(( 2 * JOBS_PER_CLIENT ))
note "$(elapsed): all enqueued; waiting for $total completions"
wait_for 60 count_is completed "$total"
count_is processing 0 || fail "jobs left processing"
note "$(elapsed): all completed"
pg_snapshot_sqlite "$QC_PG_DB" "$d/snapshot.db"
$QCF verify --forbid "no free slot" "$d/snapshot.db" "$d/ran.log" "$d/acked.0" "$d/acked.1" ||
    fail "end state (above)"
note "ok in $(elapsed)"
