#!/usr/bin/env bash
# The pyzmq example enqueues a job and waits for its result.
. "$(dirname "$0")/lib.sh"
"$PY" -c "import zmq" || fail "python3-zmq is not installed for $PY"
start_broker
start_worker
out=$("$PY" "$QC_SOURCE/scripts/example_client.py" echo hello from python)
echo "$out"
echo "$out" | grep_q "completed (exit code 0)" || fail "not completed"
echo "$out" | grep_q -x "hello from python" || fail "output missing"
# protocol errors come back as error replies, not hangs
"$PY" - <<'PY'
import json, os, zmq
ctx = zmq.Context()
s = ctx.socket(zmq.REQ); s.setsockopt(zmq.LINGER, 0)
s.connect("ipc://" + os.environ["QUEUECTL_HOME"] + "/client.sock")
for req, code in [(b"not json", "bad_request"), (b'{"op":"frobnicate"}', "unknown_op"),
                  (b'{"op":"enqueue","job":{"command":""}}', "invalid_job"),
                  (b'{"op":"enqueue","jobs":[{"command":"true"},{"id":"bad id","command":"x"}]}', "invalid_job"),
                  (b'{"op":"get","id":"nope"}', "not_found"), (b"[1,2]", "bad_request")]:
    s.send(req)
    assert s.poll(2000), req
    r = json.loads(s.recv())
    assert not r["ok"] and r["error"]["code"] == code, (req, r)
    print("#", req.decode(), "->", code, ":", r["error"]["message"])
s.send(b'{"op":"enqueue","jobs":[{"command":"true","id":"b1"},{"command":"true","id":"b2"}]}')
assert s.poll(2000); r = json.loads(s.recv()); assert r["ok"] and r["ids"] == ["b1", "b2"], r
PY
# the failed batch stored nothing; the good one stored both
[ "$(qc list --json --limit 1000 | json "len(j)")" = 3 ] || fail "a refused batch stored jobs"
note "ok"
