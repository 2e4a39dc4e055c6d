#!/usr/bin/env bash
# A slow Server-Sent Events reader (issue 9): a client with a tiny receive
# buffer stops reading while 12 MB of job events pour in (jobs with 20 KB
# commands: every event is larger than the stream's 16 KiB read block, so
# the dashboard is always half-way through one), so its queue overflows
# while a message is half sent. When it reads again,
# every event must be whole (no resent half), a resync must say it lost
# some, and later events must flow normally (no queue counter underflow,
# which left the old hub resyncing forever).
. "$(dirname "$0")/lib.sh"
start_broker
start_dashboard slow
DASH_URL=$DASH_URL "$PY" - <<'PY'
import json, os, socket, threading, time, urllib.parse, urllib.request

url = urllib.parse.urlparse(os.environ["DASH_URL"])


def post(path, body):
    req = urllib.request.Request(os.environ["DASH_URL"] + path, method="POST", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=30))


def open_stream(rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect((url.hostname, url.port))
    s.sendall(b"GET /api/events HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")  # 1.0: no chunked framing
    return s


def read_until(s, marker, seconds=20):
    data, end = b"", time.monotonic() + seconds
    s.settimeout(0.5)
    while time.monotonic() < end and marker not in data:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            continue
        if not chunk:
            break
        data += chunk
    return data


# A watcher stream, read all along by a thread: once it has the last job's
# event, the feed has pushed every event to the slow stream's queue too.
watcher = open_stream()
watched = {}
assert b"event: hello" in read_until(watcher, b"event: hello")
reader = threading.Thread(target=lambda: watched.setdefault("data", read_until(watcher, b'"id":"slow-14-39"', 60)))
reader.start()
sock = open_stream(rcvbuf=4096)
raw = read_until(sock, b"event: hello")  # open; from now on this client stalls
assert b"event: hello" in raw, raw
BIG = "true " + "x" * 20000
for batch in range(15):  # 600 events of 20 KB: over the kernel's buffers and the 4 MiB queue
    post("api/jobs", {"jobs": [{"id": "slow-%d-%d" % (batch, i), "command": BIG, "delay_s": 3600}
                               for i in range(40)]})
reader.join()
assert b'"id":"slow-14-39"' in watched["data"], "the watcher never saw the last job"


raw += read_until(sock, b"event: resync")
raw += read_until(sock, b"\n\n")  # the rest of the resync message
# Drain whatever follows the resync, then ask for one more event.
post("api/jobs", {"id": "after-resync", "command": "true", "delay_s": 3600})
raw += read_until(sock, b'"id":"after-resync"')
raw += read_until(sock, b"\n\n")
sse = raw.split(b"\r\n\r\n", 1)[1].decode()  # the stream, after the HTTP headers
events, resyncs, after = 0, 0, False
for block in sse.split("\n\n"):
    block = "\n".join(l for l in block.split("\n") if l and not l.startswith(":") and not l.startswith("retry:"))
    if not block:
        continue
    parts = block.split("\n")
    assert len(parts) == 2 and parts[0].startswith("event: ") and parts[1].startswith("data: "), \
        "a corrupt event: %r" % block[:200]
    data = json.loads(parts[1][6:])
    if str(data.get("id")).startswith("slow-"):
        assert data.get("command") == BIG, "an event with a damaged command: %r..." % data.get("command")[:80]
    events += 1
    resyncs += parts[0] == "event: resync"
    after = after or (parts[0] == "event: job" and data.get("id") == "after-resync")
assert resyncs >= 1, "the stream never overflowed: the test proves nothing (%d events)" % events
assert after, "no event after the resync came through"
print("# %d whole events, %d resync, then events flow again" % (events, resyncs))
sock.close()
watcher.close()
PY
stop_dashboard "$DASH_PID"
note "ok"
