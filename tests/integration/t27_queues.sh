#!/usr/bin/env bash
# Named queues (issue 12): enqueue --queue, workers serving --queues in
# preference order, queue pause/resume (running jobs finish), queue set
# --max-running (a cap over all workers), list/status by queue, settings kept
# across a broker restart, QUEUECTL_QUEUE; bad input refused with exit 2.
. "$(dirname "$0")/lib.sh"
start_broker
started_ms() { qc show --json "$1" | json "j['started_at']"; }

# preference order: a worker serving b,a takes b's job first, never default's
qc enqueue --queue a --id a1 -- 'printf %s "$QUEUECTL_QUEUE"' >/dev/null
qc enqueue --queue b --id b1 -- 'printf %s "$QUEUECTL_QUEUE"' >/dev/null
qc enqueue --id d1 true >/dev/null
start_worker --queues b,a --name ab
wait_for 10 state_is a1 completed
state_is b1 completed || fail "b1 not done before a1"
[[ "$(started_ms b1)" < "$(started_ms a1)" ]] || fail "b1 ($(started_ms b1)) should start before a1 ($(started_ms a1))"
[ "$(job_field a1 stdout_tail)" = a ] || fail "QUEUECTL_QUEUE: $(job_field a1 stdout_tail)"
state_is d1 pending || fail "a worker serving b,a took a default job"
[ "$(qc worker list --json | json "j[0]['queues']")" = "b,a" ] || fail "worker list lacks queues"

# list and status by queue
[ "$(qc list --queue a --json | json "[x['id'] for x in j]")" = '["a1"]' ] || fail "list --queue"
[ "$(qc list --queue default --state pending --json | json "[x['id'] for x in j]")" = '["d1"]' ] || fail "list --queue --state"
[ "$(qc status --queue b --json | json "(j['counts']['completed'], j['workers'])")" = "(1, 1)" ] || fail "status --queue b"
qc list | grep_q "^a1  *completed  *a " || fail "list lacks the QUEUE column"
# watch --queue: only that queue (counts, the workers serving it, its dead jobs)
qc enqueue --queue a --id a-dead --max-retries 0 -- 'exit 3' >/dev/null
qc enqueue --queue b --id b-dead --max-retries 0 -- 'exit 4' >/dev/null
wait_for 10 state_is a-dead dead
wait_for 10 state_is b-dead dead
timeout -s INT 2 "$QUEUECTL" watch --queue a --interval 200ms >"$QUEUECTL_HOME/watch.out" </dev/null || true
grep_q "queuectl watch  queue a " "$QUEUECTL_HOME/watch.out" || fail "watch --queue a: no title: $(cat -v "$QUEUECTL_HOME/watch.out")"
grep_q "Queues (1)" "$QUEUECTL_HOME/watch.out" && grep_q "^  a  .* 0 pending" "$QUEUECTL_HOME/watch.out" &&
    ! grep_q "^  default " "$QUEUECTL_HOME/watch.out" || fail "watch --queue a shows other queues: $(cat -v "$QUEUECTL_HOME/watch.out")"
grep_q "completed in this queue 1" "$QUEUECTL_HOME/watch.out" || fail "watch --queue a: counts not the queue's"
grep_q "Workers (1) serving this queue" "$QUEUECTL_HOME/watch.out" || fail "watch --queue a: workers"
grep_q "^  a-dead " "$QUEUECTL_HOME/watch.out" && ! grep_q "b-dead" "$QUEUECTL_HOME/watch.out" ||
    fail "watch --queue a: dead jobs of other queues: $(cat -v "$QUEUECTL_HOME/watch.out")"
timeout -s INT 1 "$QUEUECTL" watch --queue default --interval 200ms >"$QUEUECTL_HOME/watch.out" </dev/null || true
grep_q "Workers (0) serving this queue" "$QUEUECTL_HOME/watch.out" || fail "watch --queue default: the b,a worker counted"
cat -v "$QUEUECTL_HOME/watch.out" | tail -n 12

# pause: nothing new starts, a running job finishes; resume starts the rest
start_worker --concurrency 4 --name all
wait_for 10 state_is d1 completed
qc enqueue --queue p --id p1 -- 'sleep 1' >/dev/null
wait_for 10 state_is p1 processing
qc queue pause p | grep_q "queue p: paused" || fail "pause output"
qc enqueue --queue p --id p2 true >/dev/null
qc enqueue --id d2 true >/dev/null
wait_for 10 state_is d2 completed
wait_for 10 state_is p1 completed
state_is p2 pending || fail "a job of a paused queue started"
[ "$(qc queue list --json | json "[q['paused'] for q in j if q['name']=='p'][0]")" = True ] || fail "queue list paused"

# settings survive a broker restart
stop_broker
start_broker
[ "$(qc queue list --json | json "[q['paused'] for q in j if q['name']=='p'][0]")" = True ] || fail "pause lost on restart"
state_is p2 pending || fail "p2 started after the restart"
qc queue resume p >/dev/null
wait_for 10 state_is p2 completed

# a cap over all workers: 3 jobs with max-running 1 never overlap, on 2 workers with 5 slots
qc queue set c --max-running 1 | grep_q "at most 1 running at once" || fail "set output"
for i in 1 2 3; do qc enqueue --queue c --id c$i -- 'sleep 0.3' >/dev/null; done
for i in 1 2 3; do wait_for 15 state_is c$i completed; done
overlap() { # max jobs running at once among the given ids, from their attempts
    for id in "$@"; do qc show --json "$id"; done | "$PY" -c '
import json, sys
dec = json.JSONDecoder(); text = sys.stdin.read(); i = 0; events = []
while i < len(text):
    while i < len(text) and text[i].isspace(): i += 1
    if i >= len(text): break
    job, i = dec.raw_decode(text, i)
    for a in job["attempts_log"]:
        events += [(a["started_at"], 1), (a["finished_at"], -1)]
n = best = 0
for _, d in sorted(events, key=lambda e: (e[0], e[1])): n += d; best = max(best, n)
print(best)'
}
[ "$(overlap c1 c2 c3)" = 1 ] || fail "max-running 1 let $(overlap c1 c2 c3) run at once"
[ "$(qc queue list --json | json "[q['max_running'] for q in j if q['name']=='c'][0]")" = 1 ] || fail "queue list cap"
qc queue set c --max-running none | grep_q "no limit" || fail "none"
for i in 4 5 6; do qc enqueue --queue c --id c$i -- 'sleep 1' >/dev/null; done
for i in 4 5 6; do wait_for 15 state_is c$i completed; done
[ "$(overlap c4 c5 c6)" -ge 2 ] || fail "without a cap the jobs did not run together"

# bad input: exit 2 naming what is wrong; nothing stored or changed
# (not the oldest pending job's age: the clock moves it by itself)
snapshot() {
    db_sql 'SELECT count(*) FROM jobs'
    qc queue list --json | json "[{k: v for k, v in q.items() if k != 'oldest_pending_age_s'} for q in j]"
}
before=$(snapshot)
check 2 'invalid --queue "has space"' enqueue --queue 'has space' true
check 2 'queue must be 1-128 characters' enqueue '{"command":"true","queue":7}'
check 2 'queue pause: which queue?' queue pause
check 2 'is not a valid queue name' queue resume 'a/b'
check 2 'say what to set: --max-running' queue set c
check 2 '--max-running must be an integer from 0 to 100000, or none, not "-1"' queue set c --max-running -1
check 2 'unknown subcommand "drain"' queue drain c
check 2 'invalid --queue "a b"' list --queue 'a b'
check 2 'invalid --queue ""' status --queue ''
check 2 'watch: invalid --queue "a b"' watch --queue 'a b'
check 2 'invalid --queues "a,,b"' worker start --queues 'a,,b'
check 2 'queue a is listed twice' worker start --queues a,a
set +e; "$WORKER" --queues 'x y' 2>"$QUEUECTL_HOME/err"; rc=$?; set -e
[ $rc = 2 ] && grep_q "invalid --queues 'x y'" "$QUEUECTL_HOME/err" || fail "queuectl-worker --queues: rc=$rc $(cat "$QUEUECTL_HOME/err")"
raw_refused bad_request 'max_running must be an integer' '{"op":"queue.set","queue":"c","max_running":"x"}'
raw_refused bad_request 'queue.pause needs a valid "queue"' '{"op":"queue.pause"}'
raw_refused bad_request 'queue must be' '{"op":"list","queue":"a b"}'
[ "$(snapshot)" = "$before" ] || fail "refused input changed something"
note "ok"
