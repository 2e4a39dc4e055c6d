#!/usr/bin/env bash
# Dependencies (issue 12): --after keeps a job waiting until its dependencies
# complete; a chain survives a broker kill -9 in its middle; a dependency
# ending dead or canceled cancels everything downstream with a reason naming
# it, and dlq retry brings those back; a whole graph goes in one batch;
# unknown or ended dependencies and bad ids are refused, nothing stored.
. "$(dirname "$0")/lib.sh"
start_broker
qc config set backoff-base 1 >/dev/null
dir="$QUEUECTL_HOME/marks"; mkdir -p "$dir"

# a chain, no worker yet: the head is pending, the rest wait
qc enqueue --id a -- 'sleep 0.2' >/dev/null
qc enqueue --id b --after a -- 'sleep 0.2' >/dev/null
qc enqueue --id c --after b true >/dev/null
state_is a pending && state_is b waiting && state_is c waiting || fail "states before any run"
[ "$(qc list --state waiting --json | json "sorted(x['id'] for x in j)")" = '["b", "c"]' ] || fail "list --state waiting"
count_is waiting 2 || fail "status counts waiting"
qc show b | grep_q -x "  after       a (pending)" || fail "show: after"
qc show b | grep_q -x "  dependents  c (waiting)" || fail "show: dependents"
[ "$(qc show --json b | json "j['after']")" = '[{"id": "a", "state": "pending"}]' ] || fail "show --json after"
start_worker --concurrency 4
wait_for 15 state_is c completed
finished() { qc show --json "$1" | json "j['finished_at']"; }
started() { qc show --json "$1" | json "j['started_at']"; }
[[ ! "$(started b)" < "$(finished a)" ]] && [[ ! "$(started c)" < "$(finished b)" ]] || fail "a chain ran out of order"
# a dependency that has completed already: pending at once
qc enqueue --id c2 --after a,c true >/dev/null
wait_for 10 state_is c2 completed

# a broker killed in the middle of a chain: it goes on where it was
qc enqueue --id x1 -- "touch $dir/x1; sleep 1" >/dev/null
qc enqueue --id x2 --after x1 true >/dev/null
qc enqueue --id x3 --after x2 true >/dev/null
wait_for 10 test -e "$dir/x1"
kill9_broker
start_broker
wait_for 20 state_is x3 completed
state_is x2 completed || fail "x2"

# failure cascade: f1 dies, everything downstream is canceled naming it
# (one batch: f1 must not end before the others name it)
printf '%s\n' "{\"id\":\"f1\",\"max_retries\":0,\"command\":\"[ -e $dir/ok ]\"}" \
    '{"id":"f2","command":"true","after":["f1"]}' '{"id":"f3","command":"true","after":["f2"]}' \
    '{"id":"f4","command":"true","after":["a","f1"]}' >"$QUEUECTL_HOME/f.jsonl"
qc enqueue --file "$QUEUECTL_HOME/f.jsonl" >/dev/null
wait_for 10 state_is f1 dead
for id in f2 f3 f4; do wait_for 5 state_is $id canceled; done
[ "$(job_field f2 last_error)" = "dependency f1 ended dead" ] || fail "f2 reason: $(job_field f2 last_error)"
[ "$(job_field f3 last_error)" = "dependency f2 was canceled: f1 ended dead" ] || fail "f3 reason: $(job_field f3 last_error)"
[ "$(job_field f4 last_error)" = "dependency f1 ended dead" ] || fail "f4 reason: $(job_field f4 last_error)"
# dlq retry of f1 brings them back; this time it succeeds, and so do they
touch "$dir/ok"
qc dlq retry f1 >/dev/null
for id in f1 f2 f3 f4; do wait_for 10 state_is $id completed; done

# canceling a job cancels its dependents; a waiting job can be canceled itself
qc enqueue --id h1 --delay 1h true >/dev/null
qc enqueue --id h2 --after h1 true >/dev/null
qc enqueue --id h3 --after h1 true >/dev/null
qc cancel h3 >/dev/null
state_is h3 canceled && state_is h1 pending && state_is h2 waiting || fail "cancel of a waiting job"
qc cancel h1 >/dev/null
state_is h2 canceled || fail "h2 not canceled with h1"
[ "$(job_field h2 last_error)" = "dependency h1 ended canceled" ] || fail "h2 reason: $(job_field h2 last_error)"

# a whole graph in one atomic batch, dependencies earlier in it
printf '%s\n' '{"id":"g1","command":"true"}' '{"id":"g2","command":"true","after":["g1"]}' \
    '{"id":"g3","command":"true","after":["g1","g2"]}' >"$QUEUECTL_HOME/graph.jsonl"
qc enqueue --file "$QUEUECTL_HOME/graph.jsonl" >/dev/null
wait_for 10 state_is g3 completed

# bad input: nothing stored
qc enqueue --id dead1 --max-retries 0 -- 'exit 1' >/dev/null
wait_for 10 state_is dead1 dead
jobs_count() { db_sql 'SELECT count(*) FROM jobs'; }
before=$(jobs_count)
check 1 'after: no job with id "nosuch"' enqueue --after a,nosuch true
check 1 'after: job "dead1" has ended dead or canceled' enqueue --after dead1 true
check 2 'invalid --after "a,,b"' enqueue --after a,,b true
check 2 'invalid --after "bad id"' enqueue --after 'bad id' true
check 2 'after names the job itself (s1)' enqueue '{"id":"s1","command":"true","after":["s1"]}'
check 2 'after names a twice' enqueue '{"command":"true","after":["a","a"]}'
check 2 'after must be an array' enqueue '{"command":"true","after":"a"}'
check 2 '--after is for one job' enqueue --file "$QUEUECTL_HOME/graph.jsonl" --after a
printf '%s\n' '{"id":"l1","command":"true","after":["l2"]}' '{"id":"l2","command":"true"}' >"$QUEUECTL_HOME/later.jsonl"
check 1 'after: no job with id "l2"' enqueue --file "$QUEUECTL_HOME/later.jsonl"
raw_refused not_found 'jobs[1]: after: no job with id "zz"' '{"op":"enqueue","jobs":[{"id":"ok9","command":"true"},{"command":"true","after":["zz"]}]}'
[ "$(jobs_count)" = "$before" ] || fail "refused input stored jobs"
note "ok"
