#!/usr/bin/env bash
# A broker without an event stream (--events-endpoint none): the dashboard
# falls back to polling status every second and still pushes status,
# refresh and throughput events to the page.
. "$(dirname "$0")/lib.sh"
start_broker --events-endpoint none
start_worker
start_dashboard polling
DASH_URL=$DASH_URL "$PY" - <<'PY'
import http.client, json, os, time, urllib.parse, urllib.request
url = urllib.parse.urlparse(os.environ["DASH_URL"])
status = json.load(urllib.request.urlopen(os.environ["DASH_URL"] + "api/status", timeout=10))
assert status["live"] == "polling", status
conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
conn.request("GET", "/api/events")
resp = conn.getresponse()
event, deadline = None, time.monotonic() + 10
while time.monotonic() < deadline:  # the first poll sets the baseline for throughput
    line = resp.fp.readline().decode().rstrip("\n")
    if line.startswith("event: "):
        event = line[7:]
    elif line.startswith("data: ") and event == "status" and "counts" in json.loads(line[6:]):
        break
else:
    raise SystemExit("no status event with counts within 10 s")
req = urllib.request.Request(os.environ["DASH_URL"] + "api/jobs", method="POST",
                             data=json.dumps({"jobs": [{"command": "true"}] * 3}).encode(),
                             headers={"Content-Type": "application/json"})
assert urllib.request.urlopen(req, timeout=10).status == 201
seen, event, deadline = {}, None, time.monotonic() + 15
while time.monotonic() < deadline and not ("refresh" in seen and seen.get("completed") == 3 and "tp" in seen):
    line = resp.fp.readline().decode().rstrip("\n")
    if line.startswith("event: "):
        event = line[7:]
    elif line.startswith("data: "):
        data = json.loads(line[6:])
        seen[event] = data
        if event == "status" and data.get("counts"):
            seen["completed"] = data["counts"]["completed"]
        if event == "hello":
            assert data["live"] == "polling", data
assert "refresh" in seen and seen.get("completed") == 3 and seen["tp"]["completed"] >= 1, seen
print("# polling mode: status, refresh and tp events:", sorted(seen))
PY
stop_dashboard "$DASH_PID"
note "ok"
