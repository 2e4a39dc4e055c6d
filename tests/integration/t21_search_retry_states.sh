#!/usr/bin/env bash
# The broker ops that keep work with the data's owner, through the Python
# client (scripts/queuectl_client.py): list with q (searched in the broker,
# at most 10,000 jobs looked at per request, paged on with the cursor),
# states (many ids in one request, no output), and dlq.retry with ids or
# all (bounded per request, "more" and a cursor, nobody revived twice).
. "$(dirname "$0")/lib.sh"
"$PY" -c "import zmq" || fail "python3-zmq is not installed for $PY"
start_broker
start_worker --concurrency 4
PYTHONPATH="$QC_SOURCE/scripts" "$PY" - <<'PY'
import time
from queuectl_client import Client, QueueError

q = Client(timeout=10)
checks = 0


def ok(cond, what):
    global checks
    assert cond, what
    checks += 1
    print("# ok", checks, "-", what)


def refused(code, op, **args):
    try:
        q.call(op, **args)
    except QueueError as err:
        return err.code == code
    return False


# ---- search: 12,001 delayed jobs, the needle the oldest of them
q.enqueue("echo the Needle in the haystack", id="needle-old", delay_s=3600)
for batch in range(2):
    q.enqueue_many([{"id": "hay-%d-%d" % (batch, i), "command": "echo hay %d" % i, "delay_s": 3600}
                    for i in range(6000)])
first = q.call("list", q="needle", limit=10)
ok(first["jobs"] == [] and first["scanned"] == 10000 and first["next_cursor"],
   "a search looks at 10,000 jobs per request and says where to go on")
second = q.call("list", q="needle", limit=10, cursor=first["next_cursor"])
ok([j["id"] for j in second["jobs"]] == ["needle-old"] and second["next_cursor"] is None,
   "the cursor carries the search on to the oldest job")
ok([j["id"] for j in q.search("NEEDLE")] == ["needle-old"], "case-insensitive; the client pages by itself")
ok("stdout_tail" not in second["jobs"][0], "search results carry no output")
page = q.call("list", q="hay 59", limit=3)
ok([j["id"] for j in page["jobs"]] == ["hay-1-5999", "hay-1-5998", "hay-1-5997"],
   "matches in the command, newest first, limit respected")
exact = q.call("list", q="hay-0-7", limit=2)
ok([j["id"] for j in exact["jobs"]] == ["hay-0-7"] and exact["next_cursor"],
   "a whole id comes first, however old (the other matches are past the first 10,000)")
more = q.call("list", q="hay-0-7", limit=2, cursor=exact["next_cursor"])
ok([j["id"] for j in more["jobs"]] == ["hay-0-799", "hay-0-798"], "the next page goes on, without it")
ok(q.call("list", q="needle", state="completed")["jobs"] == [], "q combines with state")
ok(refused("bad_request", "list", q="x" * 257), "q over 256 bytes: bad_request")
ok(refused("bad_request", "list", q=5), "q of the wrong type: bad_request")

# ---- states: many ids, one request, no output
states = q.call("states", ids=["needle-old", "hay-0-1", "ghost"])["jobs"]
ok([s["id"] for s in states] == ["needle-old", "hay-0-1", "ghost"], "states: one entry per id, in order")
ok(states[0]["state"] == "pending" and states[2]["state"] is None and "stdout_tail" not in states[0]
   and "command" not in states[0], "each id's state (null if unknown), no output or command")
ok(refused("too_large", "states", ids=["a"] * 10001), "states: over 10,000 ids is too_large")
ok(refused("bad_request", "states", ids=["bad id"]), "states: an invalid id is bad_request")
ok(refused("bad_request", "states", ids=[]), "states: no ids is bad_request")
many = q.states("hay-0-%d" % i for i in range(5000))
ok(len(many) == 5000 and set(many.values()) == {"pending"}, "states of 5,000 jobs in one request")

# ---- dlq.retry with ids
doomed = q.enqueue_many([{"id": "doomed-%d" % i, "command": "exit 1", "max_retries": 0} for i in range(3)])


def wait_states(ids, state, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if set(q.states(ids).values()) == {state}:
            return True
        time.sleep(0.05)
    return False


ok(wait_states(doomed, "dead"), "three failing jobs reach the DLQ")
r = q.call("dlq.retry", ids=["doomed-0", "doomed-1", "ghost", "needle-old"])
ok(r["retried"] == ["doomed-0", "doomed-1"], "dlq.retry ids: the dead ones are retried")
ok([(f["id"], f["error"]["code"]) for f in r["failed"]] == [("ghost", "not_found"), ("needle-old", "conflict")],
   "and the others are reported, not fatal")
ok(refused("too_large", "dlq.retry", ids=["a"] * 1001), "dlq.retry: over 1,000 ids is too_large")
ok(refused("bad_request", "dlq.retry", ids=["doomed-2"], all=True), "ids and all together: bad_request")
ok(wait_states(doomed, "dead"), "the retried jobs ran again and died again")

# ---- dlq.retry all: bounded per request, walks down with its cursor
q.enqueue_many([{"id": "bulk-%d" % i, "command": "exit 1", "max_retries": 0} for i in range(1200)])
ok(wait_states(["bulk-%d" % i for i in range(1200)], "dead", 60), "1,200 more jobs reach the DLQ")
first = q.call("dlq.retry", all=True)
ok(len(first["retried"]) == 1000 and first["more"] is True and first["next_cursor"],
   "dlq.retry all: 1,000 per request, more: true")
rest = q.call("dlq.retry", all=True, cursor=first["next_cursor"])
ok(len(rest["retried"]) == 203 and rest["more"] is False and not set(rest["retried"]) & set(first["retried"]),
   "the cursor takes the rest, nobody twice though the revived jobs die again at once")
time.sleep(0.5)
ok(wait_states(["bulk-%d" % i for i in range(1200)] + doomed, "dead", 60), "all dead again")
again = q.retry_dead()
ok(len(again) == 1203 and len(set(again)) == 1203, "the client's retry_dead: every dead job once")
print("# %d checks passed" % checks)
PY
note "ok"
