#!/usr/bin/env bash
# Issue 9.2: a broker that stalls (paused past the liveness window, or busy
# with a burst of huge requests) must not throw away jobs that succeeded.
#  1. SIGSTOP the broker while two jobs finish; the worker gives up on it and
#     reconnects; SIGCONT: both results are recorded, nothing is lost.
#  2. Five concurrent enqueues of 10,000 delayed jobs each while a worker
#     runs 200 short jobs with --max-retries 0: every one completes, none is
#     failed as worker_lost, heartbeats keep flowing.
. "$(dirname "$0")/fault_lib.sh"
d=$QUEUECTL_HOME
start_broker --liveness 1s --heartbeat 250ms
start_worker --concurrency 2 --name w
wait_for 10 workers_are 1
w=$(ls "$d"/worker.*.log)

# 1. The pause.
for i in 1 2; do qc enqueue --id "p$i" --max-retries 0 -- "sleep 1; echo p$i" >/dev/null; done
wait_for 10 count_is processing 2
wait_for 10 sh -c "[ \$(grep -c 'started (pid' $w) -ge 2 ]"
kill -STOP "$BROKER_PID"
note "$(elapsed): broker paused"
wait_for 10 grep_q "broker silent, reconnecting" "$w"
wait_for 10 sh -c "[ \$(grep -c 'ended: succeeded' $w) -ge 2 ]"
wait_for 10 grep_q "reconnecting to" "$w"
kill -CONT "$BROKER_PID"
note "$(elapsed): broker resumed"
wait_for 15 count_is completed 2
for i in 1 2; do
    [ "$(sql "SELECT group_concat(a.outcome) FROM attempts a JOIN jobs j ON j.seq = a.job_seq WHERE j.id = 'p$i'")" = 0 ] ||
        fail "p$i: attempts $(sql "SELECT group_concat(a.outcome) FROM attempts a JOIN jobs j ON j.seq = a.job_seq WHERE j.id = 'p$i'")"
done
grep_q "the broker was stalled" "$d/broker.log" || fail "the broker did not notice its own stall"

# 2. The burst of huge requests.
"$PY" - "$CLIENT_EP" "$d/short" <<'PY' &
import json, sys, zmq
ctx = zmq.Context()
s = ctx.socket(zmq.REQ); s.setsockopt(zmq.LINGER, 0); s.connect(sys.argv[1])
jobs = [{"id": "q%d" % i, "command": "true", "max_retries": 0} for i in range(200)]
for k in range(0, 200, 20):
    s.send(json.dumps({"op": "enqueue", "jobs": jobs[k:k + 20]}).encode())
    assert s.poll(20000), "no answer"
    assert json.loads(s.recv())["ok"]
PY
short=$!
QC_PIDS+=("$short")
bursts=()
for c in 1 2 3 4 5; do
    "$PY" - "$CLIENT_EP" "$c" <<'PY' &
import json, sys, zmq
ctx = zmq.Context()
s = ctx.socket(zmq.REQ); s.setsockopt(zmq.LINGER, 0); s.connect(sys.argv[1])
jobs = [{"id": "big%s-%d" % (sys.argv[2], i), "command": "true", "delay_s": 3600}
        for i in range(10000)]
s.send(json.dumps({"op": "enqueue", "jobs": jobs}).encode())
assert s.poll(60000), "no answer to a 10,000-job enqueue"
r = json.loads(s.recv()); assert r["ok"], r
PY
    bursts+=($!)
    QC_PIDS+=("$!")
done
for p in "${bursts[@]}"; do reap "$p" || fail "a 10,000-job enqueue failed"; done
reap "$short" || fail "the short jobs' enqueue failed"
note "$(elapsed): 50,000 delayed jobs and 200 short ones enqueued"
wait_for 60 count_is completed 202
lost=$(sql "SELECT COUNT(*) FROM attempts WHERE outcome = 4")
dead=$(sql "SELECT COUNT(*) FROM jobs WHERE state = 4")
[ "$lost" = 0 ] && [ "$dead" = 0 ] || fail "$lost worker_lost attempts, $dead dead jobs"
[ "$(sql "SELECT COUNT(*) FROM jobs WHERE state = 0")" = 50000 ] || fail "delayed jobs missing"
note "worker reconnects during the burst: $(grep -c 'broker silent' "$w" || true) (1 from the pause)"
note "ok in $(elapsed)"
