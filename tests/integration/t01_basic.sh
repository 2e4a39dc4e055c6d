#!/usr/bin/env bash
# A basic job completes and its output is captured.
. "$(dirname "$0")/lib.sh"
start_broker
start_worker
id=$(qc enqueue echo hello world)
wait_for 10 state_is "$id" completed
[ "$(job_field "$id" stdout_tail)" = "hello world" ] || fail "stdout not captured"
[ "$(job_field "$id" exit_code)" = 0 ] || fail "exit code not 0"
[ "$(job_field "$id" attempts)" = 1 ] || fail "ran more than once"
qc show "$id" | grep_q "| hello world" || fail "show does not print the output"
qc show --json "$id" | json "j['attempts_log'][0]['outcome']" | grep_q -x succeeded || fail "attempt outcome"
# stderr is captured too, separately
id2=$(qc enqueue 'echo out; echo err >&2')
wait_for 10 state_is "$id2" completed
[ "$(job_field "$id2" stderr_tail)" = "err" ] || fail "stderr not captured"
[ "$(job_field "$id2" stdout_tail)" = "out" ] || fail "stdout mixed with stderr"
note "ok"
