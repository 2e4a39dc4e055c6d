#!/usr/bin/env bash
# Issue 9.6: replies queued for a client that pipelines requests and never
# reads are bounded in bytes. A DEALER sends 3,000 "get" requests for a job
# with 128 KiB of output tails (a ~260 KB reply each, 780 MB in all) and
# never reads: the broker's memory stays small, it keeps answering others,
# and a job's reply stays bounded however many attempts it has.
. "$(dirname "$0")/fault_lib.sh"
d=$QUEUECTL_HOME
# AddressSanitizer keeps freed memory in quarantine (256 MB by default), so
# RSS says nothing about what the broker holds: the normal build measures it.
if ldd "$BROKER" 2>/dev/null | grep_q libasan; then
    echo "SKIP: RSS is not the broker's own memory under AddressSanitizer"
    exit 77
fi
start_broker --liveness 1s --heartbeat 250ms
start_worker --name w
qc enqueue --id big -- "head -c 70000 /dev/zero | tr '\\0' o; head -c 70000 /dev/zero | tr '\\0' e >&2" >/dev/null
wait_for 10 state_is big completed
rss() { awk '/VmRSS/ {print $2}' "/proc/$BROKER_PID/status"; }
before=$(rss)
"$PY" - "$CLIENT_EP" <<'PY'
import json, sys, time, zmq
s = zmq.Context().socket(zmq.DEALER); s.setsockopt(zmq.LINGER, 0)
s.setsockopt(zmq.RCVHWM, 1)  # read nothing, hold as little as possible here
s.connect(sys.argv[1])
for _ in range(3000):
    s.send_multipart([b"", b'{"op":"get","id":"big"}'])
time.sleep(0.1)
PY
# The broker has handled them all once it answers a ping behind them.
wait_for 30 broker_answers
after=$(rss)
note "broker RSS: ${before} kB before, ${after} kB after 3,000 unread replies"
[ $((after - before)) -lt 200000 ] || fail "broker memory grew by $((after - before)) kB"
len=$(qc show --json big | wc -c)
[ "$len" -lt 4200000 ] || fail "a get reply is $len bytes"
note "ok in $(elapsed)"
