#!/usr/bin/env bash
# Retry policy by exit code (issue 12): --retry-on-exit (only these retry),
# --no-retry-on-exit (these go straight to the DLQ; also "timeout", "lost"),
# JSON lists, config defaults taken at enqueue; timeouts keep retrying unless
# named; bad input refused with exit 2 and nothing changed.
. "$(dirname "$0")/lib.sh"
start_broker
qc config set backoff-base 1 >/dev/null
start_worker --concurrency 4
wait_for 10 workers_are 1
attempts_of() { qc show --json "$1" | json "len(j['attempts_log'])"; }

# only 75 retries: attempt 1 exits 75 (retried), attempt 2 exits 3 (dead at once)
qc enqueue --id r1 --max-retries 5 --retry-on-exit 75,111 -- '[ "$QUEUECTL_ATTEMPT" = 1 ] && exit 75; exit 3' >/dev/null
# 64 goes straight to the DLQ; 5 retries as usual
qc enqueue --id r2 --max-retries 5 --no-retry-on-exit 2,64 -- 'exit 64' >/dev/null
qc enqueue --id r3 --max-retries 1 --no-retry-on-exit 2,64 -- 'exit 5' >/dev/null
# timeouts retry even with a retry_on_exit list, unless no_retry_on_exit names them
qc enqueue --id r4 --max-retries 1 --timeout 1s --retry-on-exit 75 -- 'sleep 30' >/dev/null
qc enqueue --id r5 --max-retries 5 --timeout 1s --no-retry-on-exit timeout -- 'sleep 30' >/dev/null
# the JSON form
qc enqueue '{"id":"r6","command":"exit 75","max_retries":1,"retry_on_exit":[75]}' >/dev/null
for id in r1 r2 r3 r4 r5 r6; do wait_for 20 state_is $id dead; done
[ "$(attempts_of r1)" = 2 ] || fail "r1: $(attempts_of r1) attempts"
job_field r1 last_error | grep_q "exit code 3; not retried: its exit code is not in retry_on_exit" \
    || fail "r1 error: $(job_field r1 last_error)"
[ "$(attempts_of r2)" = 1 ] || fail "r2: $(attempts_of r2) attempts"
job_field r2 last_error | grep_q "exit code 64; not retried: its exit code is in no_retry_on_exit" \
    || fail "r2 error: $(job_field r2 last_error)"
[ "$(attempts_of r3)" = 2 ] || fail "r3: $(attempts_of r3) attempts"
[ "$(attempts_of r4)" = 2 ] || fail "r4: $(attempts_of r4) attempts"
[ "$(attempts_of r5)" = 1 ] || fail "r5: $(attempts_of r5) attempts"
job_field r5 last_error | grep_q "timed out after 1s; not retried: no_retry_on_exit names timeout" \
    || fail "r5 error: $(job_field r5 last_error)"
[ "$(attempts_of r6)" = 2 ] || fail "r6: $(attempts_of r6) attempts"
[ "$(qc show --json r1 | json "j['retry_on_exit']")" = "[75, 111]" ] || fail "r1 list"
[ "$(qc show --json r5 | json "j['no_retry_on_exit']")" = '["timeout"]' ] || fail "r5 list"
qc show r2 | grep_q -x "  no retry  2,64 (exit codes)" || fail "show lacks the list"

# config defaults, taken when a job is enqueued; "none" opts a job out
qc config set no-retry-on-exit 9,timeout >/dev/null
[ "$(qc config get no-retry-on-exit --json | json "j['no_retry_on_exit']")" = "9,timeout" ] || fail "config"
qc config get all | grep_q "^no-retry-on-exit *9,timeout$" || fail "config get all"
qc enqueue --id c1 --max-retries 3 -- 'exit 9' >/dev/null
qc enqueue --id c2 --max-retries 1 --no-retry-on-exit none -- 'exit 9' >/dev/null
qc enqueue --id c3 --max-retries 3 --delay 1s -- 'exit 9' >/dev/null
qc config set no-retry-on-exit none >/dev/null  # c3 keeps what it was enqueued with
wait_for 20 state_is c1 dead
wait_for 20 state_is c2 dead
wait_for 20 state_is c3 dead
[ "$(attempts_of c1)" = 1 ] || fail "c1: $(attempts_of c1) attempts"
[ "$(attempts_of c2)" = 2 ] || fail "c2: $(attempts_of c2) attempts"
[ "$(attempts_of c3)" = 1 ] || fail "c3: $(attempts_of c3) attempts"

# bad input: exit 2 naming what is wrong; nothing stored, config unchanged
snapshot() { db_sql 'SELECT count(*), group_concat(id||state) FROM jobs' 'SELECT count(*)||string_agg(id||state, '"','"' ORDER BY seq) FROM jobs'; qc config get --json; }
before=$(snapshot)
check 2 'invalid --retry-on-exit "0": "0" is not an exit code (use 1-255, comma-separated)' enqueue --retry-on-exit 0 true
check 2 'invalid --retry-on-exit "256"' enqueue --retry-on-exit 256 true
check 2 'invalid --retry-on-exit "timeout": "timeout" is not an exit code' enqueue --retry-on-exit timeout true
check 2 'invalid --no-retry-on-exit "2,": a list must not end with a comma' enqueue --no-retry-on-exit 2, true
check 2 'invalid --no-retry-on-exit "2;64"' enqueue --no-retry-on-exit '2;64' true
check 2 'retry_on_exit must be an array of exit codes 1-255' enqueue '{"command":"true","retry_on_exit":"75"}'
check 2 'retry_on_exit must be an array of exit codes 1-255' enqueue '{"command":"true","retry_on_exit":[1.5]}'
check 2 'no_retry_on_exit must be an array of exit codes 1-255, "timeout" or "lost"' enqueue '{"command":"true","no_retry_on_exit":["never"]}'
check 2 '--retry-on-exit and --no-retry-on-exit are for one job' enqueue --file /dev/null --retry-on-exit 1
check 2 'invalid value for retry_on_exit: "lost" is not an exit code' config set retry-on-exit lost
check 2 'invalid value for no_retry_on_exit: "300" is not an exit code' config set no-retry-on-exit 300
raw_refused invalid_job 'no_retry_on_exit must be an array' '{"op":"enqueue","job":{"command":"true","no_retry_on_exit":[0]}}'
[ "$(snapshot)" = "$before" ] || fail "refused input changed the database or the config"
note "ok"
