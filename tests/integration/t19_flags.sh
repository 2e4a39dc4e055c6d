#!/usr/bin/env bash
# One flag parser: --flag value and --flag=value everywhere, global flags
# before or after the command, no abbreviations, the same for the broker and
# the worker.
. "$(dirname "$0")/lib.sh"
d=$QUEUECTL_HOME
start_broker --liveness=3s --heartbeat=1s
rc_of() { set +e; "$@" >"$d/out" 2>"$d/err"; local rc=$?; set -e; echo $rc; }
# global flags after the command
[ "$(rc_of qc status --insecure)" = 0 ] || fail "status --insecure: $(cat "$d/err")"
[ "$(rc_of qc status --timeout=1s)" = 0 ] || fail "status --timeout=1s: $(cat "$d/err")"
[ "$(rc_of qc --timeout=1s status)" = 0 ] || fail "--timeout=1s status: $(cat "$d/err")"
qc status --no-color --json | json "j['counts']['pending']" | grep_q -x 0 || fail "status --json after"
qc --json status | json "j['counts']['pending']" | grep_q -x 0 || fail "--json before"
qc status --broker="ipc://$d/client.sock" >/dev/null || fail "--broker= after the command"
[ "$(rc_of qc list --timeout=forever)" = 2 ] && grep_q "invalid --timeout" "$d/err" || fail "bad --timeout after the command"
# enqueue's own --timeout is the job's (it shadows the global one there)
qc enqueue --id=t30 --timeout=30s --max-retries=1 --priority=high -- true >/dev/null
[ "$(job_field t30 timeout_s)" = 30 ] || fail "--timeout=30s"
[ "$(job_field t30 max_retries)" = 1 ] && [ "$(job_field t30 priority)" = 10 ] || fail "--flag=value in enqueue"
# a job's words may look like flags once the command has begun
qc enqueue --id words echo --json -n >/dev/null
[ "$(job_field words command)" = "echo --json -n" ] || fail "words: $(job_field words command)"
# --state=dead for events, --attempt=2 for logs
qc events --state=dead --json >"$d/events" 2>&1 &
events_pid=$!; QC_PIDS+=("$events_pid")
qc enqueue --id flaky --max-retries 1 -- 'echo "run $(date +%N)"; exit 3' >/dev/null
start_worker --concurrency=2 --name=w1
wait_for 20 state_is flaky dead
wait_for 5 grep_q '"id":"flaky"' "$d/events"
grep_q '"topic":"job.dead"' "$d/events" || fail "events --state=dead: $(cat "$d/events")"
grep_none "events --state=dead showed other states" '"topic":"job.failed"' "$d/events"
kill "$events_pid"
[ "$(qc logs --attempt=2 flaky)" != "$(qc logs --attempt=1 flaky)" ] || fail "--attempt=2 is attempt 1"
qc logs --attempt=2 flaky | grep_q "^run " || fail "--attempt=2"
qc worker list --json | json "[w['worker_id'] for w in j]" | grep_q w1 || fail "worker --name=w1"
# errors name the flag, exit 2
[ "$(rc_of qc list --lim 5)" = 2 ] && grep_q 'unknown option "--lim"' "$d/err" || fail "abbreviation accepted: $(cat "$d/err")"
[ "$(rc_of qc events --frob=1)" = 2 ] && grep_q 'unknown option "--frob"' "$d/err" || fail "--frob=1"
[ "$(rc_of qc list --json=yes)" = 2 ] && grep_q -- '--json takes no value' "$d/err" || fail "--json=yes"
[ "$(rc_of qc logs flaky --attempt)" = 2 ] && grep_q -- '--attempt needs a value' "$d/err" || fail "--attempt"
[ "$(rc_of "$WORKER" --conc 2)" = 2 ] && grep_q 'unknown option "--conc"' "$d/err" || fail "worker abbreviation"
[ "$(rc_of "$BROKER" --liveness=banana)" = 2 ] && grep_q "invalid --liveness" "$d/err" || fail "broker --liveness="
# help anywhere among the flags
qc list --state=dead --help | grep_q "usage: queuectl list" || fail "list --help"
qc worker stop --help | grep_q "worker stop" || fail "worker stop --help"
note "ok"
