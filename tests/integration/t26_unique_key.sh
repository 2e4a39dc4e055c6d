#!/usr/bin/env bash
# Unique keys (issue 12): while a job with the key is unfinished (pending,
# processing, failed awaiting retry) another enqueue with it returns that
# job's id, exit 0, "duplicate_of" in --json, and adds nothing, in batches
# too; a finished one frees the key; a dead job whose key was taken stays
# dead on dlq retry. Bad keys are refused (exit 2), nothing stored.
. "$(dirname "$0")/lib.sh"
start_broker
jobs_count() { db_sql 'SELECT count(*) FROM jobs'; }

[ "$(qc enqueue --id u1 --unique-key k1 -- 'echo one')" = u1 ] || fail "first enqueue"
out=$(qc enqueue --unique-key k1 -- 'echo two' 2>"$QUEUECTL_HOME/err") || fail "duplicate: exit $?"
[ "$out" = u1 ] || fail "duplicate printed '$out'"
grep_q "not added: unfinished job u1 has this unique key" "$QUEUECTL_HOME/err" || fail "no note: $(cat "$QUEUECTL_HOME/err")"
[ "$(qc enqueue --json --unique-key k1 -- 'echo three' | json "(j['id'], j['duplicate_of'])")" = "('u1', 'u1')" ] \
    || fail "--json lacks duplicate_of"
# a client retrying a timed-out enqueue (same id, same key) gets success, not "already exists"
[ "$(qc enqueue --id u1 --unique-key k1 -- 'echo one')" = u1 ] || fail "retried enqueue"
[ "$(jobs_count)" = 1 ] || fail "duplicates were stored: $(jobs_count) jobs"
[ "$(job_field u1 command)" = "echo one" ] || fail "the first job changed"
qc show u1 | grep_q -x "  unique key  k1" || fail "show lacks the key"
# a plain enqueue has no duplicate_of
[ "$(qc enqueue --json --id u2 true | json "'duplicate_of' in j")" = False ] || fail "duplicate_of on a new job"

# batches: a key held before, and one repeated inside the batch
printf '%s\n' '{"id":"b1","command":"true","unique_key":"k3"}' '{"id":"b2","command":"true","unique_key":"k3"}' \
    '{"command":"true","unique_key":"k1"}' >"$QUEUECTL_HOME/batch.jsonl"
qc enqueue --file "$QUEUECTL_HOME/batch.jsonl" | grep_q -x "1 job enqueued, 2 not added (an unfinished job has its unique key)" \
    || fail "batch summary: $(qc enqueue --file "$QUEUECTL_HOME/batch.jsonl")"
reply=$(raw_request '{"op":"enqueue","jobs":[{"id":"b3","command":"true"},{"command":"true","unique_key":"k3"}]}')
[ "$(echo "$reply" | json "(j['ids'], j['duplicate_of'])")" = "(['b3', 'b1'], [None, 'b1'])" ] || fail "batch reply: $reply"
[ "$(jobs_count)" = 4 ] || fail "after batches: $(jobs_count) jobs"

# finished jobs free their key; processing and failed (awaiting retry) hold it
start_worker
wait_for 10 state_is u1 completed
[ "$(qc enqueue --id u3 --unique-key k1 true)" = u3 ] || fail "a completed job still held its key"
qc enqueue --id f1 --unique-key k4 --max-retries 1 -- 'exit 1' >/dev/null
wait_for 10 state_is f1 failed
[ "$(qc enqueue --unique-key k4 true 2>/dev/null)" = f1 ] || fail "a job awaiting retry did not hold its key"
wait_for 15 state_is f1 dead
qc enqueue --id p1 --unique-key k4 -- 'sleep 30' >/dev/null
wait_for 10 state_is p1 processing
[ "$(qc enqueue --unique-key k4 true 2>/dev/null)" = p1 ] || fail "a processing job did not hold its key"
# f1 (dead, key k4) can't come back while p1 holds k4
set +e; qc dlq retry f1 >/dev/null 2>"$QUEUECTL_HOME/err"; rc=$?; set -e
[ $rc = 1 ] && grep_q "stays in the dead-letter queue: its unique key is held by an unfinished job" "$QUEUECTL_HOME/err" \
    || fail "dlq retry of a job whose key is taken: rc=$rc $(cat "$QUEUECTL_HOME/err")"
state_is f1 dead || fail "f1 left the DLQ"
qc cancel p1 >/dev/null
wait_for 10 state_is p1 canceled
qc dlq retry f1 >/dev/null || fail "dlq retry once the key is free"

# bad keys: exit 2, nothing stored
before=$(jobs_count)
check 2 'invalid --unique-key "has space"' enqueue --unique-key 'has space' true
check 2 'invalid --unique-key ""' enqueue --unique-key '' true
check 2 'unique_key must be 1-128 characters' enqueue '{"command":"true","unique_key":42}'
check 2 '--unique-key is for one job' enqueue --file "$QUEUECTL_HOME/batch.jsonl" --unique-key k9
raw_refused invalid_job 'unique_key must be' '{"op":"enqueue","job":{"command":"true","unique_key":"a/b"}}'
[ "$(jobs_count)" = "$before" ] || fail "refused input stored jobs"
note "ok"
