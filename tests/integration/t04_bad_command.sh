#!/usr/bin/env bash
# An invalid command fails gracefully (exit 127, error recorded) and is retried.
. "$(dirname "$0")/lib.sh"
start_broker
start_worker
qc enqueue --id missing --max-retries 1 nosuchcmd_queuectl >/dev/null
wait_for 15 state_is missing dead
qc show --json missing | json "[(a['outcome'], a['exit_code']) for a in j['attempts_log']]" \
    | grep_q "\[\[\"failed\", 127\], \[\"failed\", 127\]\]" || fail "expected two failed attempts with 127"
job_field missing stderr_tail | grep_q "not found" || fail "shell's error not captured"
job_field missing last_error | grep_q -i "not found" || fail "error not named"
# the worker is still healthy
id=$(qc enqueue true)
wait_for 10 state_is "$id" completed
note "ok"
