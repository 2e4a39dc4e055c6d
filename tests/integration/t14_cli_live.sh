#!/usr/bin/env bash
# The CLI's live commands against real processes: enqueue --wait passes the
# job's exit code through, logs -f streams output while the job runs, wait
# returns when the last job ends, events show pending -> processing ->
# completed, --file enqueues in batches and refuses a bad line, cancel, prune.
. "$(dirname "$0")/lib.sh"
start_broker
start_worker --concurrency 2
wait_for 10 workers_are 1
d=$QUEUECTL_HOME

# enqueue --wait behaves like the command
set +e; out=$(qc enqueue --wait --max-retries 0 -- 'echo visible; exit 7' 2>"$d/err"); rc=$?; set -e
[ $rc = 7 ] || fail "enqueue --wait: exit $rc, expected 7"
[ "$out" = visible ] || fail "enqueue --wait output: $out"
[ "$(qc enqueue --wait echo fine 2>/dev/null)" = fine ] || fail "enqueue --wait success"

# events: the life of one job, in order
"$QUEUECTL" events --json >"$d/events" 2>&1 &
ev=$!; QC_PIDS+=($ev)
# a PUB subscription takes a moment to reach the broker: wait until one shows
for i in $(seq 1 50); do
    qc enqueue --id "probe$i" true >/dev/null
    grep_q "probe" "$d/events" && break
    sleep 0.1
done
grep_q "probe" "$d/events" || fail "the events stream shows nothing"
# a refused batch publishes nothing (its inserts were rolled back)
qc enqueue --id evdup true >/dev/null
"$PY" - <<'PY'
import os, sys
sys.path.insert(0, os.environ["QC_SOURCE"] + "/scripts")
from queuectl_client import Client, QueueError
try:
    Client().enqueue_many([{"id": "ghost1", "command": "true"}, {"id": "evdup", "command": "true"}])
    raise SystemExit("duplicate batch accepted")
except QueueError as e:
    assert e.code == "duplicate", e
PY
id=$(qc enqueue --id evjob true)
wait_for 10 grep_q '"id":"evjob","state":"completed"' "$d/events"
grep_none "an event for a rolled-back job" ghost1 "$d/events"
kill $ev
"$PY" - "$d/events" <<'PY'
import json, sys
states = [e["state"] for e in map(json.loads, open(sys.argv[1])) if e.get("id") == "evjob"]
print("# evjob events:", states)
assert states == ["pending", "processing", "completed"], states
PY

# logs -f: output arrives while the job runs, and it ends with the job
id=$(qc enqueue -- 'for i in 1 2 3 4; do echo tick $i; sleep 0.7; done')
qc logs -f "$id" | while IFS= read -r line; do echo "$(date +%s%N) $line"; done >"$d/follow"
[ "$(wc -l <"$d/follow")" = 4 ] || fail "logs -f lines: $(cat "$d/follow")"
"$PY" - "$d/follow" <<'PY'
import sys
t = [int(l.split()[0]) / 1e9 for l in open(sys.argv[1])]
spread = t[-1] - t[0]
print(f"# logs -f: first to last line {spread:.2f}s")
assert spread > 1.2, "lines arrived together: not streamed"
PY
state_is "$id" completed || fail "logs -f returned before the job ended"
[ "$(qc logs "$id" | tail -1)" = "tick 4" ] || fail "logs"

# wait: returns when the last ends; non-zero if one ended dead
a=$(qc enqueue sleep 0.5); b=$(qc enqueue sleep 1.5)
qc wait "$a" "$b"
state_is "$b" completed || fail "wait returned early"
c=$(qc enqueue --max-retries 0 false)
set +e; qc wait "$c" 2>"$d/err"; rc=$?; set -e
[ $rc = 1 ] && grep_q "ended dead" "$d/err" || fail "wait on a dead job: rc=$rc"

# enqueue --file: batches, and a bad line stores nothing of its batch
for i in $(seq 1 1500); do echo "{\"id\":\"f$i\",\"command\":\"true\"}"; done >"$d/jobs.jsonl"
qc enqueue --file "$d/jobs.jsonl" | grep_q "1500 jobs enqueued" || fail "--file"
printf '{"id":"g1","command":"true"}\n{"id":"g2","comand":"x"}\n' >"$d/bad.jsonl"
set +e; qc enqueue --file "$d/bad.jsonl" 2>"$d/err"; rc=$?; set -e
[ $rc = 2 ] && grep_q "line 2" "$d/err" || fail "bad line: rc=$rc $(cat "$d/err")"
set +e; qc show g1 >/dev/null 2>&1; rc=$?; set -e
[ $rc = 1 ] || fail "a job of the refused batch was stored"
qc wait --all >/dev/null
count_is pending 0 && count_is processing 0 || fail "wait --all returned early"

# cancel: a pending (delayed) job at once; a running one through its worker
p=$(qc enqueue --delay 1h true)
qc cancel "$p" | grep_q "canceled" || fail "cancel pending"
state_is "$p" canceled || fail "not canceled"
r=$(qc enqueue sleep 30.123)
wait_for 10 state_is "$r" processing
qc cancel "$r" >/dev/null
wait_for 10 state_is "$r" canceled
pgrep_none "canceled job still running" -f "sleep 30.123"
set +e; qc cancel "$r" 2>"$d/err"; rc=$?; set -e
[ $rc = 1 ] && grep_q "already finished" "$d/err" || fail "cancel twice: rc=$rc"

# prune and dlq purge
dead_before=$(qc status --json | json "j['counts']['dead']")
[ "$dead_before" -ge 2 ] || fail "expected dead jobs"
qc dlq purge | grep_q "deleted $dead_before job" || fail "dlq purge"
qc prune --canceled | grep_q "deleted 2 jobs" || fail "prune canceled"
qc prune --completed --older-than 1h | grep_q "deleted 0 jobs" || fail "prune older-than"
count_is dead 0 && count_is canceled 0 || fail "counts after purge"
set +e; qc prune 2>/dev/null; rc=$?; set -e
[ $rc = 2 ] || fail "prune without states: $rc"
note "ok"
