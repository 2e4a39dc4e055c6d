#!/usr/bin/env bash
# The client libraries against a real broker and workers: the C example
# (libqueuectl) and the Python module push jobs, wait for them, report failures.
. "$QC_SOURCE/tests/integration/lib.sh"
start_broker
start_worker --concurrency 4
out=$("$QC_BIN/tests/clients/push_and_wait" 200)
echo "$out" | tail -3
echo "$out" | grep_q -x "200 jobs, 180 completed, 20 failed" || fail "C client: $out"
[ "$(echo "$out" | grep -c '^failed: .*exit 3$')" = 20 ] || fail "C client failures"
out=$("$PY" "$QC_SOURCE/scripts/examples_push_1000.py" 1000)
echo "$out" | tail -2
echo "$out" | grep_q -x "1000 jobs, 990 completed, 10 failed" || fail "python: $out"
# the module's errors
"$PY" - <<'PY'
import os, sys
sys.path.insert(0, os.environ["QC_SOURCE"] + "/scripts")
from queuectl_client import Client, QueueError, NoBroker
q = Client()
q.enqueue("true", id="dup")
try:
    q.enqueue("true", id="dup"); raise SystemExit("duplicate accepted")
except QueueError as e:
    assert e.code == "duplicate", e
try:
    Client("ipc:///nonexistent/x.sock", timeout=0.3).status(); raise SystemExit("no error")
except NoBroker:
    pass
assert q.wait("dup")["state"] == "completed"
print("# python module errors ok")
PY
note "ok"
