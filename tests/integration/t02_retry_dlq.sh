#!/usr/bin/env bash
# A failing job retries after ~2 s and ~4 s, lands in the DLQ; dlq retry revives it.
. "$(dirname "$0")/lib.sh"
start_broker
start_worker
qc enqueue '{"id":"flaky","command":"exit 1","max_retries":2}' >/dev/null
wait_for 20 state_is flaky dead
qc show --json flaky >"$QUEUECTL_HOME/flaky.json"
"$PY" - "$QUEUECTL_HOME/flaky.json" <<'PY'
import json, sys
from datetime import datetime
job = json.load(open(sys.argv[1]))
log = job["attempts_log"]
assert len(log) == 3, f"expected 3 attempts, got {len(log)}"
t = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
for a in log:
    assert a["outcome"] == "failed" and a["exit_code"] == 1, a
gap1 = t(log[1]["started_at"]) - t(log[0]["finished_at"])
gap2 = t(log[2]["started_at"]) - t(log[1]["finished_at"])
print(f"# backoff gaps: {gap1:.2f}s, {gap2:.2f}s (expected 2 and 4)")
assert 1.9 <= gap1 <= 2.8, gap1
assert 3.9 <= gap2 <= 4.8, gap2
assert job["attempts"] == 3 and job["last_error"], job
PY
qc dlq list --json | json "[x['id'] for x in j]" | grep_q flaky || fail "not in dlq list"
qc dlq list | grep_q flaky || fail "not in dlq table"
qc dlq retry flaky | grep_q "pending again" || fail "dlq retry output"
# it runs again with attempts reset, history kept
wait_for 10 test "$(job_field flaky runs)" -ge 4
[ "$(qc show --json flaky | json "len(j['attempts_log'])")" -ge 4 ] || fail "history lost"
# retrying a job that isn't dead is refused with exit 1, and so is an unknown id
okid=$(qc enqueue true)
wait_for 10 state_is "$okid" completed
set +e; qc dlq retry "$okid" 2>"$QUEUECTL_HOME/err"; rc=$?; set -e
[ $rc = 1 ] && grep -q "not in the dead-letter queue" "$QUEUECTL_HOME/err" || fail "dlq retry of a completed job: rc=$rc"
set +e; qc dlq retry nosuchjob 2>"$QUEUECTL_HOME/err"; rc=$?; set -e
[ $rc = 1 ] && grep -q "no job" "$QUEUECTL_HOME/err" || fail "dlq retry unknown id: rc=$rc"
note "ok"
