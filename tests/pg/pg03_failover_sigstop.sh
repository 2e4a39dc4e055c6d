#!/usr/bin/env bash
# A paused broker is fenced: A active and B passive on one database; while a
# client enqueues and two workers run jobs, A is SIGSTOPped past its lease
# (--liveness 2s). B takes over. A is SIGCONTed 2 s later, with requests,
# heartbeats and results queued at its sockets: it must send no JOB, no ACK
# and no reply, record nothing, and step down to passive (its log after the
# resume shows no job or worker handled). At the end every acknowledged job
# is completed exactly once and the lease's epoch says B took over only once.
. "$(dirname "$0")/../fault/fault_lib.sh"
[ -n "${QC_PG_DIR:-}" ] || { echo "needs QC_PG_DIR (run through ctest -L pg)"; exit 77; }
FLAGS=(--liveness 2s --heartbeat 250ms --log-level debug)
d=$QUEUECTL_HOME
fo_setup

fo_start a "${FLAGS[@]}"
wait_for 10 fo_answers a
fo_start b "${FLAGS[@]}"
wait_for 10 grep_q "passive: another broker is active" "$QUEUECTL_HOME/broker_b.log"
qc config set backoff-base 1 >/dev/null
for w in 1 2; do start_worker --broker "$FO_WORKER_EP" --concurrency 2 --name "w$w"; done
wait_for 10 workers_are 2

$QCF enqueue "$FO_CLIENT_EP" 0 500 2 100 "{slow}echo {id} >> $d/ran.log" "$d/acked.0" 90 4 &
client=$!
QC_PIDS+=($client)

sleep_ms 1500
t_stop=$(now_ms)
note "$(elapsed): SIGSTOP broker a"
kill -STOP "$FO_PID_a"
wait_for 10 fo_answers b
note "$(elapsed): broker b took over after $(( $(now_ms) - t_stop )) ms"
sleep 2
offset=$(wc -l <"$QUEUECTL_HOME/broker_a.log")
note "$(elapsed): SIGCONT broker a ($(( $(now_ms) - t_stop )) ms after the stop)"
kill -CONT "$FO_PID_a"
wait_for 10 grep_q "stepped down" "$QUEUECTL_HOME/broker_a.log"
wait_for 10 bash -c "tail -n +$((offset + 1)) '$QUEUECTL_HOME/broker_a.log' | grep -q 'passive: another broker is active'"
after=$(tail -n +$((offset + 1)) "$QUEUECTL_HOME/broker_a.log")
echo "$after" | sed 's/^/#   a: /' | head -12
if echo "$after" | grep -E "sent to worker|attempt [0-9]+ succeeded|registered|adopted|retry [0-9]|dead-letter|took the lease"; then
    fail "broker a handled work after it lost the lease (above)"
fi
kill -0 "$FO_PID_a" || fail "broker a exited instead of waiting as a passive broker"
fo_answers a && fail "broker a still answers on its endpoint"
fo_answers b || fail "broker b stopped answering"

reap "$client" || fail "the enqueue client failed"
wait_for 60 count_is completed 500
count_is processing 0 || fail "jobs left processing"
epoch=$(pg_sql "$QC_PG_DB" "SELECT epoch FROM leader")
[ "$epoch" = 2 ] || fail "lease epoch $epoch: expected 2 (a, then b once)"
pg_snapshot_sqlite "$QC_PG_DB" "$d/snapshot.db"
$QCF verify --forbid "no free slot" "$d/snapshot.db" "$d/ran.log" "$d/acked.0" ||
    fail "end state (above)"
note "ok in $(elapsed)"
