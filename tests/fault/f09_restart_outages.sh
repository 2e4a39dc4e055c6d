#!/usr/bin/env bash
# Issue 9.3: a running job survives any broker outage its worker survives.
# One 40 s job; the broker is stopped (SIGTERM, and once SIGKILL) for 1 s,
# 6 s and 13 s in turn, and restarted on the same data. Each time the worker
# comes back, adopts the job, and is never told to kill it; the job ends
# completed with a single attempt.
. "$(dirname "$0")/fault_lib.sh"
d=$QUEUECTL_HOME
FLAGS=(--liveness 1s --heartbeat 250ms)
start_broker "${FLAGS[@]}"
start_worker --name w
wait_for 10 workers_are 1
w=$(ls "$d"/worker.*.log)
qc enqueue --id long --max-retries 0 -- "sleep 30; echo survived" >/dev/null
wait_for 10 state_is long processing
wait_for 10 grep_q "started (pid" "$w"
adopted=0
for outage in 1 6 13; do
    if [ "$outage" = 6 ]; then kill9_broker_reap; else stop_broker; forget_pid "$BROKER_PID"; fi
    note "$(elapsed): broker down for ${outage}s"
    sleep "$outage" # the outage itself is what is tested
    restart_broker "${FLAGS[@]}"
    adopted=$((adopted + 1))
    wait_for 20 sh -c "[ \$(grep -c 'job long: attempt 1 adopted' $d/broker.log) -ge $adopted ]"
    [ "$(job_state long)" = processing ] || fail "after a ${outage}s outage: long is $(job_state long)"
done
wait_for 40 state_is long completed
[ "$(job_field long attempts)" = 1 ] || fail "attempts: $(job_field long attempts)"
[ "$(job_field long stdout_tail)" = survived ] || fail "output: $(job_field long stdout_tail)"
grep_none "the worker was told to kill a healthy run" "CANCEL, but\|canceled" "$w"
note "ok in $(elapsed)"
