#!/usr/bin/env bash
# worker stop is graceful: the running job completes, then the worker exits 0.
. "$(dirname "$0")/lib.sh"
start_broker
start_worker
wait_for 10 workers_are 1
qc enqueue --id slow -- 'sleep 2; echo finished' >/dev/null
wait_for 10 state_is slow processing
qc worker stop | grep_q "asked 1 worker" || fail "stop output"
wait "$WORKER_PID" || fail "worker exited with $?"
state_is slow completed || fail "job not completed: $(job_state slow)"
[ "$(job_field slow stdout_tail)" = finished ] || fail "output"
workers_are 0 || fail "worker still registered"
# SIGTERM does the same
start_worker
wait_for 10 workers_are 1
qc enqueue --id slow2 -- 'sleep 1; echo finished' >/dev/null
wait_for 10 state_is slow2 processing
for i in 1 2 3; do qc enqueue --id "queued$i" --max-retries 1 true >/dev/null; done
kill -TERM "$WORKER_PID"
wait "$WORKER_PID" || fail "worker exited with $? after SIGTERM"
state_is slow2 completed || fail "job not completed after SIGTERM: $(job_state slow2)"
# a stopping worker takes no more jobs: the one it had prefetched runs, the
# rest wait, and no attempt is burned
pending=0
for i in 1 2 3; do
    case "$(job_state "queued$i")" in
    pending) [ "$(job_field "queued$i" attempts)" = 0 ] || fail "queued$i lost an attempt"
             pending=$((pending + 1)) ;;
    completed) [ "$(job_field "queued$i" attempts)" = 1 ] || fail "queued$i ran twice" ;;
    *) fail "queued$i is $(job_state "queued$i") after the worker stopped" ;;
    esac
done
[ $pending -ge 2 ] || fail "the stopping worker took more than its prefetched job"
note "ok"
