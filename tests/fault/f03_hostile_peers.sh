#!/usr/bin/env bash
# Hostile peers on the worker and client sockets (garbage frames, wrong frame
# counts and headers, unknown commands, invalid UTF-8/JSON, deep nesting,
# forged/stale results, absurd HELLOs, 17 MiB frames, a flood of 500
# connections). Through all of it the broker stays up, answers every REQ with
# an error reply that is itself valid UTF-8 JSON, logs what it drops, and a
# real worker's jobs run to completion untouched.
. "$(dirname "$0")/fault_lib.sh"
"$PY" -c "import zmq" || fail "python3-zmq is not installed for $PY"
d=$QUEUECTL_HOME

start_broker --liveness 2s --heartbeat 500ms
start_worker --name real --concurrency 2
wait_for 10 workers_are 1
# The victim runs on the real worker until we release it, so forged results
# for it have something to forge.
qc enqueue --id victim --max-retries 0 --timeout 60s -- \
    "i=0; while [ ! -e $d/release ] && [ \$i -lt 1200 ]; do sleep 0.05; i=\$((i+1)); done; echo victim done" >/dev/null
wait_for 10 state_is victim processing

rc=0
"$PY" "$FAULT_DIR/hostile.py" || rc=$?
note "$(elapsed): hostile probes done (rc=$rc)"

kill -0 "$BROKER_PID" || fail "the broker died"
touch "$d/release"
for i in $(seq 0 19); do echo "{\"id\":\"after-$i\",\"command\":\"echo after $i\"}"; done >"$d/jobs.jsonl"
"$PY" - "$CLIENT_EP" "$d/jobs.jsonl" <<'PY'
import json, sys, zmq
s = zmq.Context().socket(zmq.REQ); s.setsockopt(zmq.LINGER, 0); s.connect(sys.argv[1])
jobs = [json.loads(line) for line in open(sys.argv[2])]
s.send(json.dumps({"op": "enqueue", "jobs": jobs}).encode())
assert s.poll(3000), "no answer to the enqueue"
r = json.loads(s.recv()); assert r["ok"], r
PY
wait_for 20 state_is victim completed
wait_for 20 count_is completed "$(sql "SELECT COUNT(*) FROM jobs")"
# Untouched: every job ran once, on the real worker, and succeeded (but
# "poison", which hostile.py had dispatched to its fake worker on purpose).
bad=$(sql "SELECT j.id || ':' || a.attempt || ':' || IFNULL(a.worker_id, '-') || ':' || IFNULL(a.outcome, '-')
           FROM attempts a JOIN jobs j ON j.seq = a.job_seq
           WHERE j.id != 'poison' AND (a.worker_id != 'real' OR a.outcome != 0 OR a.attempt != 1)")
[ -z "$bad" ] || fail "attempts disturbed by the hostile peers: $bad"
[ "$(job_field victim stdout_tail)" = "victim done" ] || fail "victim output"
for msg in "malformed message dropped" "without a REQ envelope" "malformed HELLO dropped" \
           "malformed RESULT dropped" "ignored (held by another worker)" "unexpected"; do
    grep_q -F "$msg" "$d/broker.log" || fail "the broker did not log \"$msg\""
done
# What a hostile worker reported must not break the CLI for everyone else.
for cmd in "show poison" "list"; do
    # shellcheck disable=SC2086
    if ! qc $cmd >"$d/cli.out" 2>&1; then
        note "FAIL queuectl $cmd: $(head -c 300 "$d/cli.out")"
        rc=1
    fi
done
kill -0 "$BROKER_PID" || fail "the broker died"
[ $rc = 0 ] || fail "hostile probes failed (see FAIL lines above)"
note "ok in $(elapsed)"
