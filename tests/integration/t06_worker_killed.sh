#!/usr/bin/env bash
# A worker SIGKILLed mid-job: its job is retried after the liveness window and
# completed by another worker; its job processes (and their children) are gone.
. "$(dirname "$0")/lib.sh"
start_broker --liveness 2s --heartbeat 500ms
d="$QUEUECTL_HOME"
start_worker --name first
first=$WORKER_PID
wait_for 10 workers_are 1
qc enqueue --id victim --max-retries 2 -- \
  "if [ -e $d/ran ]; then echo second run; else touch $d/ran; echo \$\$ > $d/shell.pid; sleep 60 & echo \$! > $d/child.pid; wait; fi" >/dev/null
wait_for 10 test -s "$d/child.pid"
start_worker --name second
wait_for 10 workers_are 2
kill -KILL "$first"
shell=$(cat "$d/shell.pid"); child=$(cat "$d/child.pid")
wait_for 5 sh -c "! kill -0 $shell && ! kill -0 $child"
wait_for 20 state_is victim completed
qc show --json victim | json "[(a['outcome'], a['worker_id']) for a in j['attempts_log']]" >"$d/attempts"
grep -q '"worker_lost", "first"' "$d/attempts" || fail "first attempt not recorded worker_lost: $(cat "$d/attempts")"
grep -q '"succeeded", "second"' "$d/attempts" || fail "not completed by second: $(cat "$d/attempts")"
[ "$(job_field victim stdout_tail)" = "second run" ] || fail "output"
note "ok"
