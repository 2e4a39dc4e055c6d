#!/usr/bin/python3
"""The dashboard's REST API, against a real broker, workers and dashboard.

Environment: DASH_URL (no token), TOKEN_URL and TOKEN (a dashboard started
with --token-file). Each check prints one line; the first failure raises."""
import http.client
import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request

URL = os.environ["DASH_URL"].rstrip("/")
TOKEN_URL = os.environ["TOKEN_URL"].rstrip("/")
TOKEN = os.environ["TOKEN"]
checks = 0


def ok(cond, what):
    global checks
    if not cond:
        raise AssertionError(what)
    checks += 1
    print("ok", checks, "-", what)


def call(method, path, body=None, headers=None, base=URL, raw=None, json_type=True):
    """Returns (status, headers, parsed JSON body or text)."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    hdrs = dict(headers or {})
    if method not in ("GET", "HEAD") and json_type and "Content-Type" not in hdrs:
        hdrs["Content-Type"] = "application/json"
    if method not in ("GET", "HEAD") and data is None:
        data = b""
    req = urllib.request.Request(base + path, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            status, rhdrs, text = resp.status, resp.headers, resp.read().decode()
    except urllib.error.HTTPError as err:
        status, rhdrs, text = err.code, err.headers, err.read().decode()
    ctype = rhdrs.get("Content-Type", "")
    if ctype.startswith("application/json") and text:
        return status, rhdrs, json.loads(text)
    return status, rhdrs, text


def error_code(body):
    return body.get("error", {}).get("code") if isinstance(body, dict) else None


def wait_for(what, fn, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def job_state(job_id):
    return call("GET", "/api/jobs/" + job_id)[2]["job"]["state"]


def enqueue(job):
    status, _, body = call("POST", "/api/jobs", job)
    assert status == 201, (status, body)
    return body["id"]


# ---------------------------------------------------------------- status
s, h, b = call("GET", "/api/status")
ok(s == 200 and set(b["counts"]) >= {"pending", "processing", "completed", "failed", "dead"},
   "GET /api/status: counts per state")
ok(b["live"] in ("events", "polling") and b["workers"] >= 1, "status says how it is live and the workers")
ok(h.get("Cache-Control") == "no-store" and h.get("X-Content-Type-Options") == "nosniff",
   "API answers are not cached and not sniffed")
s, _, b = call("GET", "/api/throughput")
ok(s == 200 and len(b["completed"]) == len(b["failed"]) == 600, "GET /api/throughput: 600 seconds")

# ---------------------------------------------------------------- static page
s, h, b = call("GET", "/")
ok(s == 200 and h["Content-Type"].startswith("text/html") and "app.js" in b, "GET / serves the page")
ok("script-src 'self'" in h.get("Content-Security-Policy", ""), "the page has a strict CSP")
s, h, _ = call("GET", "/app.js")
ok(s == 200 and "javascript" in h["Content-Type"], "GET /app.js")
s, _, _ = call("GET", "/style.css")
ok(s == 200, "GET /style.css")
s, _, _ = call("GET", "/../CMakeLists.txt")
ok(s == 404, "no path outside the page's files")
s, _, _ = call("GET", "/nope.html")
ok(s == 404, "unknown file: 404")

# ---------------------------------------------------------------- enqueue and get
s, _, b = call("POST", "/api/jobs", {"id": "api-1", "command": "echo api one; echo err >&2"})
ok(s == 201 and b == {"id": "api-1"}, "POST /api/jobs: 201 with the id")
wait_for("api-1 completed", lambda: job_state("api-1") == "completed")
s, _, b = call("GET", "/api/jobs/api-1")
job = b["job"]
ok(s == 200 and job["exit_code"] == 0 and job["attempts_log"][0]["stdout_tail"] == "api one\n"
   and job["attempts_log"][0]["stderr_tail"] == "err\n", "GET /api/jobs/{id}: attempts with output")
s, _, b = call("POST", "/api/jobs", {"id": "api-1", "command": "true"})
ok(s == 409 and error_code(b) == "duplicate", "duplicate id: 409 duplicate")
s, _, b = call("POST", "/api/jobs", {"command": ""})
ok(s == 400 and error_code(b) == "invalid_job" and "command" in b["error"]["message"],
   "empty command: 400 invalid_job naming the field")
s, _, b = call("POST", "/api/jobs", {"command": "true", "colour": "red"})
ok(s == 400 and "colour" in b["error"]["message"], "unknown field: 400 naming it")
s, _, b = call("POST", "/api/jobs", {"command": "true", "priority": 5000})
ok(s == 400 and error_code(b) == "invalid_job", "priority out of range: 400")
s, _, b = call("POST", "/api/jobs", raw=b"{not json")
ok(s == 400 and error_code(b) == "bad_request", "malformed JSON body: 400 bad_request")
s, _, b = call("POST", "/api/jobs", raw=b"[1,2]")
ok(s == 400 and error_code(b) == "bad_request", "a body that is not an object: 400")
s, _, b = call("POST", "/api/jobs", {"jobs": [{"command": "true", "id": "api-b1"},
                                              {"command": "true", "id": "api-b2"}]})
ok(s == 201 and b["ids"] == ["api-b1", "api-b2"], "POST /api/jobs with jobs: a batch")
s, _, b = call("POST", "/api/jobs", {"jobs": [{"command": "true", "id": "api-b3"}, {"id": "x"}]})
ok(s == 400 and "jobs[1]" in b["error"]["message"], "a bad batch: 400 naming the index")
s, _, b = call("POST", "/api/jobs", raw=b"x" * (1024 * 1024 + 10))
ok(s == 413, "a body over 1 MiB: 413")
s, _, b = call("GET", "/api/jobs/nope")
ok(s == 404 and error_code(b) == "not_found", "GET unknown job: 404 not_found")
s, _, b = call("GET", "/api/jobs/bad%20id")
ok(s == 400 and error_code(b) == "bad_request", "GET with an invalid id: 400")

# ---------------------------------------------------------------- CSRF
s, _, b = call("POST", "/api/jobs", raw=b'{"command":"true"}', json_type=False,
               headers={"Content-Type": "application/x-www-form-urlencoded"})
ok(s == 415, "a form post (not application/json): 415")
s, _, b = call("POST", "/api/jobs", raw=b'{"command":"true"}', json_type=False,
               headers={"Content-Type": "text/plain"})
ok(s == 415, "a text/plain post: 415")
s, _, b = call("POST", "/api/jobs", {"command": "true"}, headers={"Origin": "http://evil.example"})
ok(s == 403 and error_code(b) == "forbidden", "a mismatching Origin: 403")
s, _, b = call("PUT", "/api/config", {"key": "max_retries", "value": 3},
               headers={"Sec-Fetch-Site": "cross-site"})
ok(s == 403, "Sec-Fetch-Site cross-site: 403")
host = urllib.parse.urlparse(URL).netloc
s, _, b = call("POST", "/api/jobs", {"command": "true", "id": "api-origin"},
               headers={"Origin": "http://" + host})
ok(s == 201, "the page's own Origin is accepted")
s, _, b = call("GET", "/api/status", headers={"Host": "evil.example:80"})
ok(s == 403, "a foreign Host header on loopback (DNS rebinding): 403")

# ---------------------------------------------------------------- list, paging, search
ids = [enqueue({"id": "page-%d" % i, "command": "echo page %d" % i}) for i in range(5)]
s, _, b = call("GET", "/api/jobs?limit=2")
ok(s == 200 and [j["id"] for j in b["jobs"]] == ["page-4", "page-3"] and b["next_cursor"],
   "GET /api/jobs: newest first, with next_cursor")
s, _, b2 = call("GET", "/api/jobs?limit=2&cursor=" + urllib.parse.quote(b["next_cursor"]))
ok(s == 200 and [j["id"] for j in b2["jobs"]] == ["page-2", "page-1"], "the cursor gives the next page")
s, _, b = call("GET", "/api/jobs?state=bogus")
ok(s == 400, "unknown state: 400")
s, _, b = call("GET", "/api/jobs?limit=0")
ok(s == 400 and "limit" in b["error"]["message"], "limit 0: 400 naming limit")
s, _, b = call("GET", "/api/jobs?limit=5000")
ok(s == 400, "limit 5000: 400")
s, _, b = call("GET", "/api/jobs?cursor=xyz")
ok(s == 400, "a made-up cursor: 400")
wait_for("page jobs completed", lambda: all(job_state(i) == "completed" for i in ids))
s, _, b = call("GET", "/api/jobs?state=completed&limit=1000")
ok(s == 200 and all(j["state"] == "completed" for j in b["jobs"]) and len(b["jobs"]) >= 6,
   "state filter")
s, _, b = call("GET", "/api/jobs?q=PAGE%203")
ok(s == 200 and [j["id"] for j in b["jobs"]] == ["page-3"] and b["partial"] is False,
   "q: case-insensitive substring of the command")
s, _, b = call("GET", "/api/jobs?q=page-&limit=2")
ok(s == 200 and [j["id"] for j in b["jobs"]] == ["page-4", "page-3"] and b["next_cursor"],
   "q with limit: a page of matches and a cursor")
s, _, b2 = call("GET", "/api/jobs?q=page-&limit=2&cursor=" + urllib.parse.quote(b["next_cursor"]))
ok(s == 200 and [j["id"] for j in b2["jobs"]] == ["page-2", "page-1"], "q: the cursor continues the search")
s, _, b = call("GET", "/api/jobs?q=api-1")
ok(s == 200 and b["jobs"][0]["id"] == "api-1" and len([j for j in b["jobs"] if j["id"] == "api-1"]) == 1,
   "q equal to an id finds that job first, once")
s, _, b = call("GET", "/api/jobs?q=api-1&limit=1")
s2, _, b2 = call("GET", "/api/jobs?q=api-1&limit=1&cursor=" + urllib.parse.quote(b["next_cursor"]))
ok(s == s2 == 200 and [j["id"] for j in b["jobs"]] == ["api-1"] and "api-1" not in [j["id"] for j in b2["jobs"]],
   "q: the exact id is not shown again on the next page")
s, _, b = call("GET", "/api/jobs?q=page-&state=pending")
ok(s == 200 and b["jobs"] == [], "q combines with state")
s, _, b = call("GET", "/api/jobs?q=page-&limit=5")
ok(s == 200 and b["scanned"] >= 5 and b["partial"] is False, "a search says how many jobs the broker looked at")

# ---------------------------------------------------------------- states
s, _, b = call("GET", "/api/states?ids=page-1,page-2,ghost")
ok(s == 200 and [(j["id"], j["state"]) for j in b["jobs"]] == [("page-1", "completed"), ("page-2", "completed"), ("ghost", None)],
   "GET /api/states: each id's state in one broker call (null if unknown)")
ok("stdout_tail" not in b["jobs"][0], "states carry no output")
s, _, b = call("GET", "/api/states?ids=bad%20id")
ok(s == 400, "states with an invalid id: 400")
s, _, b = call("GET", "/api/states")
ok(s == 400, "states without ids: 400")

# ---------------------------------------------------------------- cancel
enqueue({"id": "later", "command": "true", "delay_s": 600})
s, _, b = call("POST", "/api/jobs/later/cancel")
ok(s == 200 and b["job"]["state"] == "canceled", "POST /api/jobs/{id}/cancel: canceled")
s, _, b = call("POST", "/api/jobs/later/cancel")
ok(s == 409 and error_code(b) == "conflict", "cancel a finished job: 409 conflict")
s, _, b = call("POST", "/api/jobs/ghost/cancel")
ok(s == 404, "cancel an unknown job: 404")
s, h, b = call("GET", "/api/jobs/later/cancel")
ok(s == 405 and h.get("Allow") == "POST", "GET on a POST route: 405 with Allow")

# ---------------------------------------------------------------- dead-letter queue
enqueue({"id": "doomed", "command": "echo no >&2; exit 3", "max_retries": 0})
wait_for("doomed dead", lambda: job_state("doomed") == "dead")
s, _, b = call("GET", "/api/dlq")
ok(s == 200 and "doomed" in [j["id"] for j in b["jobs"]], "GET /api/dlq lists the dead job")
s, _, b = call("POST", "/api/dlq/doomed/retry")
ok(s == 200 and b["job"]["id"] == "doomed" and b["job"]["state"] in ("pending", "processing", "dead"),
   "POST /api/dlq/{id}/retry")
wait_for("doomed dead again", lambda: len(call("GET", "/api/jobs/doomed")[2]["job"]["attempts_log"]) == 2
         and job_state("doomed") == "dead")
s, _, b = call("POST", "/api/dlq/api-1/retry")
ok(s == 409 and error_code(b) == "conflict", "retry a job not in the DLQ: 409")
s, _, b = call("POST", "/api/dlq/ghost/retry")
ok(s == 404, "retry an unknown job: 404")
enqueue({"id": "doomed2", "command": "exit 1", "max_retries": 0})
wait_for("doomed2 dead", lambda: job_state("doomed2") == "dead")
s, _, b = call("POST", "/api/dlq/retry-all")
ok(s == 200 and sorted(b["retried"]) == ["doomed", "doomed2"] and b["failed"] == [] and b["more"] is False,
   "POST /api/dlq/retry-all revives every dead job once")
wait_for("both dead again", lambda: job_state("doomed") == "dead" and job_state("doomed2") == "dead")
s, _, b = call("POST", "/api/dlq/retry-all", {"ids": ["doomed2", "api-1", "ghost"]})
ok(s == 200 and b["retried"] == ["doomed2"] and [f["id"] for f in b["failed"]] == ["api-1", "ghost"],
   "POST /api/dlq/retry-all {ids}: those jobs, the others reported")
s, _, b = call("POST", "/api/dlq/retry-all", {"everything": True})
ok(s == 400, "retry-all with an unknown field: 400")
wait_for("doomed2 dead again", lambda: job_state("doomed2") == "dead")
s, _, b = call("POST", "/api/dlq/purge", {"older_than_s": 3600})
ok(s == 200 and b["deleted"] == 0, "POST /api/dlq/purge with older_than_s keeps recent ones")

# ---------------------------------------------------------------- config
s, _, b = call("GET", "/api/config")
ok(s == 200 and b["config"]["max_retries"] == 3, "GET /api/config")
s, _, b = call("PUT", "/api/config", {"key": "max-retries", "value": 4})
ok(s == 200 and b["config"]["max_retries"] == 4, "PUT /api/config {key, value}")
s, _, b = call("PUT", "/api/config", {"backoff_base": 3, "job_timeout": "5m"})
ok(s == 200 and b["config"]["backoff_base"] == 3 and b["config"]["job_timeout"] == 300,
   "PUT /api/config with an object of keys")
s, _, b = call("PUT", "/api/config", {"key": "max_retries", "value": "lots"})
ok(s == 400 and error_code(b) == "invalid_config" and "max_retries" in b["error"]["message"],
   "a bad value: 400 invalid_config naming the key")
s, _, b = call("PUT", "/api/config", {"backoff_max": 60, "frobs": 1})
ok(s == 400 and b["error"]["applied"] == ["backoff_max"] and "frobs" in b["error"]["message"],
   "an unknown key: 400, and what was applied before it")
s, _, b = call("PUT", "/api/config", {})
ok(s == 400, "an empty PUT: 400")
s, _, b = call("PUT", "/api/config", {"key": "max_retries", "value": 3})
ok(s == 200 and b["config"]["max_retries"] == 3, "config restored")

# ---------------------------------------------------------------- queues and dependencies
s, _, b = call("GET", "/api/queues")
ok(s == 200 and b["queues"][0]["name"] == "default" and "paused" in b["queues"][0]
   and "counts" in b["queues"][0], "GET /api/queues: default first, with counts and paused")
s, _, b = call("POST", "/api/queues/apiq/pause", raw=b"{}", json_type=False,
               headers={"Content-Type": "application/x-www-form-urlencoded"})
ok(s == 415, "pausing a queue without the JSON content type (CSRF): 415")
s, _, b = call("POST", "/api/queues/apiq/pause", {}, headers={"Origin": "http://evil.example"})
ok(s == 403 and error_code(b) == "forbidden", "pausing a queue from a foreign Origin: 403")
s, _, b = call("POST", "/api/queues/apiq/pause", {}, base=TOKEN_URL)
ok(s == 401, "pausing a queue without the token: 401")
s, _, b = call("GET", "/api/queues")
ok(not any(q["name"] == "apiq" and q["paused"] for q in b["queues"]),
   "the refused requests paused nothing")
s, _, b = call("POST", "/api/queues/apiq/pause")
ok(s == 200 and b["queue"]["name"] == "apiq" and b["queue"]["paused"] is True,
   "POST /api/queues/apiq/pause: the queue, paused")
qjob = enqueue({"command": "true", "queue": "apiq"})
time.sleep(1.0)
ok(job_state(qjob) == "pending", "a job of a paused queue stays pending while workers are free")
s, _, b = call("GET", "/api/jobs/" + qjob)
ok(b["job"]["queue"] == "apiq", "a job shows its queue")
s, _, b = call("GET", "/api/queues")
apiq = [q for q in b["queues"] if q["name"] == "apiq"]
ok(apiq and apiq[0]["paused"] and apiq[0]["counts"]["pending"] == 1, "the list shows it paused, one pending")
s, _, b = call("POST", "/api/queues/apiq/resume", {})
ok(s == 200 and b["queue"]["paused"] is False, "POST /api/queues/apiq/resume")
wait_for("the resumed queue's job to complete", lambda: job_state(qjob) == "completed")
ok(True, "after resume the job completes")
s, _, b = call("GET", "/api/jobs?queue=apiq")
ok(s == 200 and [j["id"] for j in b["jobs"]] == [qjob], "GET /api/jobs?queue=apiq: only that queue's jobs")
s, _, b = call("GET", "/api/jobs?queue=apiq&state=completed")
ok(s == 200 and [j["id"] for j in b["jobs"]] == [qjob], "queue and state together")
s, _, b = call("GET", "/api/jobs?queue=a%20b")
ok(s == 400 and "queue" in b["error"]["message"], "GET /api/jobs with a bad queue name: 400")
s, _, b = call("GET", "/api/jobs?queue=apiq&q=true")
ok(s == 400 and "q" in b["error"]["message"], "queue with a search: 400 (the broker searches every queue)")
s, _, b = call("POST", "/api/queues/bad name/pause".replace(" ", "%20"))
ok(s == 400 and error_code(b) == "bad_request", "a bad queue name: 400")
s, h, b = call("GET", "/api/queues/apiq/pause")
ok(s == 405 and "POST" in h.get("Allow", ""), "GET on pause: 405 with Allow")
dep_a = enqueue({"command": "sleep 1.5"})
dep_b = enqueue({"command": "true", "after": [dep_a]})
s, _, b = call("GET", "/api/jobs?state=waiting")
ok(s == 200 and dep_b in [j["id"] for j in b["jobs"]], "GET /api/jobs?state=waiting lists the dependent")
s, _, b = call("GET", "/api/jobs/" + dep_b)
ok(b["job"]["state"] == "waiting" and b["job"]["after"][0]["id"] == dep_a,
   "the dependent's detail names its dependency with its state")
s, _, b = call("GET", "/api/jobs/" + dep_a)
ok(b["job"]["dependents"][0]["id"] == dep_b, "the dependency's detail names its dependent")
wait_for("the dependent to complete", lambda: job_state(dep_b) == "completed")
ok(True, "the dependent completes after its dependency")

# ---------------------------------------------------------------- events (SSE)
parsed = urllib.parse.urlparse(URL)
conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
conn.request("GET", "/api/events")
resp = conn.getresponse()
ok(resp.status == 200 and resp.getheader("Content-Type").startswith("text/event-stream"),
   "GET /api/events: an event stream")
enqueue({"id": "streamed", "command": "echo streamed"})
seen, event, deadline = set(), None, time.monotonic() + 10
while "completed" not in seen and time.monotonic() < deadline:
    line = resp.fp.readline().decode().rstrip("\n")
    if line.startswith("event: "):
        event = line[7:]
    elif line.startswith("data: ") and event == "job":
        data = json.loads(line[6:])
        if data["id"] == "streamed":
            seen.add(data["state"])
ok({"pending", "completed"} <= seen, "the stream carries the job's state changes")
conn.close()
s, _, b = call("GET", "/api/events?output=bad%20id")
ok(s == 400, "events for an invalid job id: 400")


def read_output(job_id, until, seconds=10):
    """The output events of a stream on job_id's output, up to one holding until."""
    c = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=seconds)
    c.request("GET", "/api/events?output=" + job_id)
    r = c.getresponse()
    got, name, end = [], None, time.monotonic() + seconds
    while time.monotonic() < end:
        line = r.fp.readline().decode().rstrip("\n")
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: ") and name == "output":
            got.append(json.loads(line[6:]))
            if until in "".join(o["data"] for o in got):
                break
    c.close()
    return got


enqueue({"id": "talky", "command": "echo first-line; sleep 0.5; echo second-line; sleep 30"})
wait_for("talky running", lambda: job_state("talky") == "processing")
live = read_output("talky", "second-line")
ok(live and "second-line" in "".join(o["data"] for o in live), "an output stream carries a running job's output")
late = read_output("talky", "second-line")
ok(late[0].get("replay") is True and late[0]["stream"] == "stdout"
   and late[0]["data"] == "first-line\nsecond-line\n",
   "a stream opened late starts with the kept tail of the output (replay), from its first line")
s, _, b = call("POST", "/api/jobs/talky/cancel")
ok(s == 200, "talky canceled")

# ---------------------------------------------------------------- metrics
s, h, text = call("GET", "/metrics")
ok(s == 200 and h["Content-Type"].startswith("text/plain; version=0.0.4"), "GET /metrics: Prometheus text")
sample = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"'
                    r'(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*\})? [-+]?([0-9.e+-]+|Inf|NaN)$')
types, values = {}, {}
for line in text.splitlines():
    if line.startswith("# HELP "):
        assert re.match(r"^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+$", line), line
    elif line.startswith("# TYPE "):
        m = re.match(r"^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$", line)
        assert m, line
        types[m.group(1)] = m.group(2)
    else:
        assert sample.match(line), "not a Prometheus sample line: %r" % line
        name_labels, value = line.rsplit(" ", 1)
        values[name_labels] = float(value)
ok(True, "every /metrics line is a HELP, TYPE or sample line")
ok(types.get("queuectl_jobs") == "gauge" and values['queuectl_jobs{state="completed"}'] >= 8,
   "queuectl_jobs{state} gauges")
for name in ("enqueued", "completed", "failed", "dead"):
    ok(types.get("queuectl_jobs_%s_total" % name) == "counter", "counter queuectl_jobs_%s_total" % name)
ok(types.get("queuectl_job_retries_total") == "counter", "counter queuectl_job_retries_total")
ok(values["queuectl_workers"] >= 1 and "queuectl_oldest_pending_age_seconds" in values,
   "workers connected and oldest pending age")
for hist in ("queuectl_dispatch_latency_seconds", "queuectl_job_run_seconds"):
    ok(types.get(hist) == "histogram", hist + " is a histogram")
    buckets = [(k, v) for k, v in values.items() if k.startswith(hist + "_bucket{")]
    counts = [v for _, v in buckets]
    ok(counts == sorted(counts) and buckets[-1][0].endswith('le="+Inf"}')
       and buckets[-1][1] == values[hist + "_count"] and values[hist + "_count"] > 0,
       hist + ": cumulative buckets ending in +Inf = count")

# ---------------------------------------------------------------- workers
s, _, b = call("GET", "/api/workers")
workers = b["workers"]
ok(s == 200 and len(workers) == 2 and {"host", "pid", "slots", "busy", "jobs_done", "last_seen"} <= set(workers[0]),
   "GET /api/workers")
s, _, b = call("POST", "/api/workers/stop", {"worker_id": "nobody"})
ok(s == 404, "stop an unknown worker: 404")
s, _, b = call("POST", "/api/workers/stop", {"worker_id": 7})
ok(s == 400, "worker_id of the wrong type: 400")
s, _, b = call("POST", "/api/workers/stop", {"everyone": True})
ok(s == 400, "unknown field in the stop body: 400")
victim = workers[0]["worker_id"]
s, _, b = call("POST", "/api/workers/stop", {"worker_id": victim})
ok(s == 200 and b["stopped"] == 1, "POST /api/workers/stop {worker_id}")
wait_for("the worker to leave", lambda: victim not in [w["worker_id"] for w in call("GET", "/api/workers")[2]["workers"]])
ok(True, "the stopped worker left")

# ---------------------------------------------------------------- routing
s, h, b = call("DELETE", "/api/jobs")
ok(s == 405 and "POST" in h.get("Allow", ""), "DELETE /api/jobs: 405")
s, _, b = call("GET", "/api/nothing")
ok(s == 404 and error_code(b) == "not_found", "unknown API path: 404")

# ---------------------------------------------------------------- the token
s, h, b = call("GET", "/api/status", base=TOKEN_URL)
ok(s == 401 and error_code(b) == "unauthorized" and "Bearer" in h.get("WWW-Authenticate", ""),
   "token set: no credentials, 401")
s, _, b = call("GET", "/", base=TOKEN_URL)
ok(s == 401, "token set: even the page needs it")
s, _, b = call("GET", "/api/status", base=TOKEN_URL, headers={"Authorization": "Bearer " + "x" * len(TOKEN)})
ok(s == 401, "a wrong token of the right length: 401")
s, _, b = call("GET", "/api/status", base=TOKEN_URL, headers={"Authorization": "Bearer " + TOKEN[:-1]})
ok(s == 401, "a prefix of the token: 401")
auth = {"Authorization": "Bearer " + TOKEN}
s, _, b = call("GET", "/api/status", base=TOKEN_URL, headers=auth)
ok(s == 200, "the right bearer token: 200")
s, _, b = call("GET", "/metrics", base=TOKEN_URL)
ok(s == 401, "/metrics needs the token too")
s, _, b = call("POST", "/api/jobs", {"command": "true"}, base=TOKEN_URL)
ok(s == 401, "a state change without the token: 401")
s, _, b = call("POST", "/api/jobs", raw=b'{"command":"true"}', json_type=False, base=TOKEN_URL,
               headers=dict(auth, **{"Content-Type": "text/plain"}))
ok(s == 415, "with the token, still no form posts: 415")
s, _, b = call("POST", "/api/jobs", {"command": "true", "id": "with-token"}, base=TOKEN_URL, headers=auth)
ok(s == 201, "a state change with the token: 201")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(NoRedirect)
try:
    opener.open(TOKEN_URL + "/?token=" + urllib.parse.quote(TOKEN), timeout=10)
    raise AssertionError("no redirect")
except urllib.error.HTTPError as err:
    cookie = err.headers.get("Set-Cookie", "")
    ok(err.code == 303 and err.headers.get("Location") == "/" and "HttpOnly" in cookie
       and "SameSite=Strict" in cookie, "/?token=T: 303 to / with an HttpOnly SameSite cookie")
s, _, b = call("GET", "/api/status", base=TOKEN_URL, headers={"Cookie": cookie.split(";")[0]})
ok(s == 200, "the cookie authenticates")
s, _, b = call("GET", "/?token=wrongwrongwrongwrong", base=TOKEN_URL)
ok(s == 401, "/?token= with a wrong token: 401")

print("%d passed, 0 failed" % checks)
