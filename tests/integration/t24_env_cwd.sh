#!/usr/bin/env bash
# Per-job environment and working directory (issue 12): --env/--cwd and their
# JSON forms reach the command, QUEUECTL_JOB_ID/ATTEMPT/QUEUE/WORKER_ID are
# set, a missing directory fails the attempt saying so, bad input is refused
# (exit 2, by the CLI and by the broker) and leaves the database as it was.
. "$(dirname "$0")/lib.sh"
start_broker
qc config set backoff-base 1 >/dev/null
start_worker --name envw
wait_for 10 workers_are 1
dir="$QUEUECTL_HOME/work dir"; mkdir -p "$dir/sub"

# flags: two variables (one with spaces, one empty), the directory, our own variables
id=$(qc enqueue --id e1 --env GREETING='hello world' --env EMPTY= --cwd "$dir" -- \
    'printf "%s|%s|%s|%s|%s|%s|%s" "$GREETING" "${EMPTY-unset}" "$(pwd)" "$QUEUECTL_JOB_ID" "$QUEUECTL_ATTEMPT" "$QUEUECTL_QUEUE" "$QUEUECTL_WORKER_ID"')
wait_for 10 state_is e1 completed
out=$(job_field e1 stdout_tail)
[ "$out" = "hello world||$dir|e1|1|default|envw" ] || fail "env/cwd not applied: '$out'"
qc show e1 | grep_q -x "  env         GREETING=hello world" || fail "show lacks env"
qc show e1 | grep_q -x "  cwd         $dir" || fail "show lacks cwd"

# a relative --cwd is made absolute against the CLI's directory; a later --env wins
(cd "$dir" && qc enqueue --id e2 --cwd sub --env X=1 --env X=2 -- 'printf "%s %s" "$(pwd)" "$X"') >/dev/null
wait_for 10 state_is e2 completed
[ "$(job_field e2 cwd)" = "$dir/sub" ] || fail "relative cwd not made absolute: $(job_field e2 cwd)"
[ "$(job_field e2 stdout_tail)" = "$dir/sub 2" ] || fail "e2: $(job_field e2 stdout_tail)"

# JSON form; flags override its fields
qc enqueue '{"id":"e3","command":"printf \"%s %s\" \"$A\" \"$(pwd)\"","env":{"A":"json"},"cwd":"/"}' --env A=flag >/dev/null
wait_for 10 state_is e3 completed
[ "$(job_field e3 stdout_tail)" = "flag /" ] || fail "e3: $(job_field e3 stdout_tail)"

# QUEUECTL_ATTEMPT counts runs: fails on the first, succeeds on the second
qc enqueue --id e4 --max-retries 1 -- '[ "$QUEUECTL_ATTEMPT" = 2 ]' >/dev/null
wait_for 15 state_is e4 completed

# a missing directory fails the attempt, saying so; retried like any failure
qc enqueue --id e5 --max-retries 1 --cwd /nonexistent/qc-dir true >/dev/null
wait_for 15 state_is e5 dead
job_field e5 last_error | grep_q "working directory /nonexistent/qc-dir does not exist" \
    || fail "missing cwd not named: $(job_field e5 last_error)"
[ "$(qc show --json e5 | json "[a['outcome'] for a in j['attempts_log']]")" = '["spawn_failed", "spawn_failed"]' ] \
    || fail "e5 attempts: $(qc show --json e5 | json "[a['outcome'] for a in j['attempts_log']]")"

# bad input: exit 2 with the flag or field named, nothing stored
checksum() { db_sql 'SELECT count(*), group_concat(id||state) FROM jobs' 'SELECT count(*)||string_agg(id||state, '"','"' ORDER BY seq) FROM jobs'; }
before=$(checksum)
check 2 'invalid --env "NOEQUALS": use NAME=VALUE' enqueue --env NOEQUALS true
check 2 'invalid --env "=v"' enqueue --env =v true
check 2 'env name "1X" is invalid' enqueue --env 1X=a true
check 2 'env name "A-B" is invalid' enqueue --env A-B=a true
check 2 'env name "QUEUECTL_JOB_ID" is reserved' enqueue --env QUEUECTL_JOB_ID=x true
check 2 '--env needs a value' enqueue --env
check 2 'invalid --cwd ""' enqueue --cwd '' true
check 2 'env must be an object' enqueue '{"command":"true","env":["A=1"]}'
check 2 'env value of A must be a string' enqueue '{"command":"true","env":{"A":1}}'
check 2 'env sets A twice' enqueue '{"command":"true","env":{"A":"1","A":"2"}}'
check 2 'cwd must be an absolute directory path' enqueue '{"command":"true","cwd":"relative"}'
check 2 'cwd must be an absolute directory path' enqueue '{"command":"true","cwd":7}'
check 2 '--env and --cwd are for one job' enqueue --file /dev/null --env A=1
# the broker checks the same (a client other than the CLI)
raw_refused invalid_job 'env name "QUEUECTL_QUEUE" is reserved' '{"op":"enqueue","job":{"command":"true","env":{"QUEUECTL_QUEUE":"x"}}}'
raw_refused invalid_job 'cwd must be an absolute' '{"op":"enqueue","job":{"command":"true","cwd":"tmp"}}'
raw_refused invalid_job 'jobs[1]: env must be an object' '{"op":"enqueue","jobs":[{"command":"true","id":"ok1"},{"command":"true","env":"A=1"}]}'
[ "$(checksum)" = "$before" ] || fail "database changed by refused input"
note "ok"
