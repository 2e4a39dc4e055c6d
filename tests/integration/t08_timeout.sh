#!/usr/bin/env bash
# A sleep 100 job with a 1 s timeout is killed and counted failed (timed_out).
. "$(dirname "$0")/lib.sh"
start_broker
start_worker
start=$(date +%s)
qc enqueue --id sleepy --timeout 1s --max-retries 0 sleep 100.37 >/dev/null
wait_for 10 state_is sleepy dead
elapsed=$(( $(date +%s) - start ))
[ $elapsed -le 6 ] || fail "took ${elapsed}s"
qc show --json sleepy | json "j['attempts_log'][0]['outcome']" | grep_q -x timed_out || fail "outcome"
job_field sleepy last_error | grep_q "timed out" || fail "error text"
pgrep_none "sleep still running" -f "^sleep 100.37$"
note "ok"
