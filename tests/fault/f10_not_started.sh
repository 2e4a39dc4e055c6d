#!/usr/bin/env bash
# Issue 9.5: attempts are charged only for runs that happened. A fake worker
# takes a job (--max-retries 0) and never starts it; it goes silent: the job
# is due again, uncharged, with the attempt recorded not_started. Then a job
# claimed just before a broker SIGKILL, never started by anyone: after the
# restart lease it is due again, uncharged. A real worker then runs both.
. "$(dirname "$0")/fault_lib.sh"
d=$QUEUECTL_HOME
WEP="ipc://$d/worker.sock"
FLAGS=(--liveness 1s --heartbeat 250ms)
start_broker "${FLAGS[@]}"

# fake_take ID: registers a fake worker that receives ID's JOB, answers
# nothing more, and exits (the broker loses it after the liveness window).
fake_take() {
    "$PY" - "$WEP" "$1" <<'PY'
import json, secrets, sys, time, zmq
s = zmq.Context().socket(zmq.DEALER); s.setsockopt(zmq.LINGER, 0); s.connect(sys.argv[1])
hello = {"worker_id": "fake", "instance": secrets.token_hex(16), "host": "h", "pid": 1,
         "slots": 1, "version": "0", "running": []}
s.send_multipart([b"QCW1", b"HELLO", json.dumps(hello).encode()])
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    if not s.poll(200):
        continue
    f = s.recv_multipart()
    if f[1] == b"JOB" and json.loads(f[2])["id"] == sys.argv[2]:
        sys.exit(0)
sys.exit("no JOB for " + sys.argv[2])
PY
}
outcomes() { sql "SELECT group_concat(a.outcome) FROM attempts a JOIN jobs j ON j.seq = a.job_seq WHERE j.id = '$1'"; }

# 1. Lost before it started.
qc enqueue --id never1 --max-retries 0 -- "echo ran1" >/dev/null
fake_take never1 || fail "the fake worker got no JOB"
wait_for 10 state_is never1 pending
[ "$(job_field never1 attempts)" = 0 ] || fail "never1 charged: attempts $(job_field never1 attempts)"
[ "$(outcomes never1)" = 7 ] || fail "never1 attempts: $(outcomes never1) (want one not_started)"

# 2. Claimed, then the broker dies before anyone starts it.
qc enqueue --id never2 --max-retries 0 --priority 10 -- "echo ran2" >/dev/null # ahead of never1
fake_take never2 || fail "the fake worker got no JOB for never2"
kill9_broker_reap
restart_broker "${FLAGS[@]}"
[ "$(job_state never2)" = processing ] || fail "never2 is $(job_state never2) after the restart"
wait_for 20 state_is never2 pending
[ "$(job_field never2 attempts)" = 0 ] || fail "never2 charged: attempts $(job_field never2 attempts)"

# A real worker runs both, each on its first counted attempt.
start_worker --name real
wait_for 10 state_is never1 completed
wait_for 10 state_is never2 completed
for id in never1 never2; do
    [ "$(job_field $id attempts)" = 1 ] || fail "$id: attempts $(job_field $id attempts)"
    [ "$(outcomes $id)" = "7,0" ] || fail "$id: outcomes $(outcomes $id)"
done
qc show never1 | grep_q "not_started" || fail "show does not list the not_started attempt"
[ "$(qc status --json | json "j.get('totals', {}).get('failed', 0)")" = 0 ] || true
note "ok in $(elapsed)"
