#!/usr/bin/env bash
# 3 workers and 200 jobs: every job completes exactly once.
. "$(dirname "$0")/lib.sh"
start_broker
out="$QUEUECTL_HOME/ran.txt"
: >"$out"
start_workers_cli 3
[ "$(qc worker list --json | json "len(j)")" = 3 ] || fail "3 workers not registered"
for i in $(seq 1 200); do
    qc enqueue --id "job-$i" -- "echo job-$i >> $out" >/dev/null
done
wait_for 60 count_is completed 200
[ "$(wc -l <"$out")" = 200 ] || fail "expected 200 lines, got $(wc -l <"$out")"
[ "$(sort -u "$out" | wc -l)" = 200 ] || fail "a job ran twice or not at all"
[ -z "$(sort "$out" | uniq -d)" ] || fail "duplicates: $(sort "$out" | uniq -d | head)"
# the work was shared
qc worker list --json | json "sorted(w['jobs_done'] for w in j)" | tee "$QUEUECTL_HOME/shares"
qc worker list --json | json "all(w['jobs_done'] > 0 for w in j)" | grep_q -x True || fail "a worker did nothing"
qc worker stop --wait >/dev/null
wait_for 10 workers_are 0
note "ok"
