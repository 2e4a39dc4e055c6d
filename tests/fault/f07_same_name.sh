#!/usr/bin/env bash
# Issue 9.1: two honest workers started with the same --name (cloned hosts,
# a copied unit file) must not knock each other off. Four 2 s jobs with
# --max-retries 0 on two one-slot workers both named node-1: all four
# complete, each attempt once, and the second worker is told its own name.
. "$(dirname "$0")/fault_lib.sh"
d=$QUEUECTL_HOME
start_broker --liveness 1s --heartbeat 250ms
start_worker --name node-1
first=$WORKER_PID
wait_for 10 workers_are 1
start_worker --name node-1
second=$WORKER_PID
wait_for 10 workers_are 2
for i in 1 2 3 4; do qc enqueue --id "s$i" --max-retries 0 -- "sleep 2; echo s$i" >/dev/null; done
wait_for 30 count_is completed 4
names=$(qc worker list --json | json "' '.join(sorted(w['worker_id'] for w in j))")
[ "$names" = "node-1 node-1.2" ] || fail "workers registered as: $names"
grep_q -F "worker name node-1 is held by a live worker" "$d/broker.log" || fail "no broker log line for the clash"
cat "$d"/worker.*.log | grep_q -F "registered as node-1.2" || fail "no worker log line for its new name"
# Each job ran once, on one of them, and succeeded; nobody was lost.
bad=$(sql "SELECT j.id || ':' || a.attempt || ':' || IFNULL(a.outcome, '-') FROM attempts a
           JOIN jobs j ON j.seq = a.job_seq WHERE a.outcome != 0 OR a.attempt != 1")
[ -z "$bad" ] || fail "attempts other than one success each: $bad"
grep_none "a worker was lost or displaced" -E "worker node-1(\.2)? lost|reconnected without it" "$d/broker.log"
kill -0 "$first" && kill -0 "$second" || fail "a worker died"
note "ok in $(elapsed)"
