#!/usr/bin/python3
"""Hostile peers against a running broker (QUEUECTL_HOME in the environment).

Needs a real worker registered as "real" that runs the job "victim" (the
shell script sets that up). Every probe waits on an event (a reply, a
RESET that proves an earlier message was dropped, a socket monitor event),
never on a guessed delay. Prints one line per probe and exits 1 if any
expectation failed.
"""
import json
import secrets
import os
import sys
import time

import zmq
import zmq.utils.monitor

HOME = os.environ["QUEUECTL_HOME"]
CEP = "ipc://%s/client.sock" % HOME
WEP = "ipc://%s/worker.sock" % HOME
BROKER_PID = int(open(os.path.join(HOME, "broker.pid")).read())
ctx = zmq.Context.instance()
ctx.set(zmq.MAX_SOCKETS, 4096)
failures = []
T0 = time.monotonic()


def check(cond, what, detail=""):
    if cond:
        print("ok   %s" % what)
    else:
        failures.append(what)
        print("FAIL %s %s" % (what, detail))
    return cond


def broker_alive():
    try:
        os.kill(BROKER_PID, 0)
        return True
    except OSError:
        return False


def sock(kind, endpoint):
    s = ctx.socket(kind)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVTIMEO, 5000)
    s.connect(endpoint)
    return s


def parse_reply(raw):
    """A client reply must be one UTF-8 JSON object: returns it or an error string."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return "reply is not valid UTF-8 (%s): %r" % (e, raw[:160])
    try:
        obj = json.loads(text)
    except ValueError as e:
        return "reply is not JSON (%s): %r" % (e, raw[:160])
    return obj if isinstance(obj, dict) else "reply is not an object: %r" % raw[:160]


def call(payload, timeout=3000):
    """One request on a fresh REQ; returns the parsed reply, an error string, or None."""
    s = sock(zmq.REQ, CEP)
    try:
        s.send(payload)
        if not s.poll(timeout):
            return None
        return parse_reply(s.recv())
    finally:
        s.close()


def expect_error(name, payload, code):
    reply = call(payload)
    if reply is None:
        return check(False, "client %s -> %s" % (name, code), "(no reply)")
    if isinstance(reply, str):
        return check(False, "client %s -> %s" % (name, code), reply)
    err = reply.get("error") or {}
    codes = code if isinstance(code, tuple) else (code,)
    return check(reply.get("ok") is False and err.get("code") in codes and
                 isinstance(err.get("message"), str) and err["message"],
                 "client %s -> %s" % (name, code), repr(reply)[:300])


def responsive(label):
    reply = call(b'{"op":"ping"}')
    check(broker_alive() and isinstance(reply, dict) and reply.get("ok") is True,
          "broker alive and answering after %s" % label, repr(reply)[:200])


def get_job(job_id):
    reply = call(json.dumps({"op": "get", "id": job_id}).encode())
    return reply["job"] if isinstance(reply, dict) and reply.get("ok") else None


def victim_untouched(label):
    job = get_job("victim")
    check(job is not None and job["state"] == "processing" and job["worker_id"] == "real" and
          job["attempts"] == 1 and len(job["attempts_log"]) == 1,
          "victim still processing on 'real', attempt 1, after %s" % label,
          repr(job)[:300] if job else "(no job)")


def wmsg(command, body=None):
    frames = [b"QCW1", command.encode()]
    if body is not None:
        frames.append(body if isinstance(body, bytes) else json.dumps(body).encode())
    return frames


def recv_cmd(s, timeout=5000, skip=("HEARTBEAT",)):
    """The next broker message on a worker DEALER other than those in skip."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        left = int((deadline - time.monotonic()) * 1000)
        if left <= 0 or not s.poll(left):
            return None, None
        frames = s.recv_multipart()
        if len(frames) >= 2 and frames[1].decode() in skip:
            continue
        body = json.loads(frames[2]) if len(frames) > 2 else None
        return frames[1].decode(), body


def hello(worker_id, slots=1, running=None, **extra):
    body = {"worker_id": worker_id, "instance": secrets.token_hex(16), "host": "hostile",
            "pid": 1, "slots": slots, "version": "0", "running": running or []}
    body.update(extra)
    return body


def dropped_unregistered(name, frames):
    """Sends frames from a fresh DEALER, then a HEARTBEAT: the first answer
    must be RESET (the peer is unknown), proving the frames were dropped."""
    s = sock(zmq.DEALER, WEP)
    s.send_multipart(frames)
    s.send_multipart(wmsg("HEARTBEAT"))
    cmd, _ = recv_cmd(s, skip=())
    s.close()
    check(cmd == "RESET", "worker %s dropped (the next HEARTBEAT gets RESET)" % name,
          "(got %s)" % cmd)


# ---------------------------------------------------------------- worker side
def worker_probes():
    deep = ('{"a":' * 1000 + "1" + "}" * 1000).encode()
    good = hello("probe")
    for name, frames in [
        ("one garbage frame", [b"\x00\x01garbage"]),
        ("header only", [b"QCW1"]),
        ("four frames", wmsg("HELLO", good) + [b"extra"]),
        ("wrong header QCW9", [b"QCW9", b"HELLO", json.dumps(good).encode()]),
        ("empty header", [b"", b"HELLO", json.dumps(good).encode()]),
        ("unknown command", wmsg("FROBNICATE", good)),
        ("lower-case hello", wmsg("hello", good)),
        ("HELLO without body", wmsg("HELLO")),
        ("HELLO invalid UTF-8", wmsg("HELLO", b'{"worker_id":"\xff\xfe"}')),
        ("HELLO invalid JSON", wmsg("HELLO", b'{"worker_id": "x",')),
        ("HELLO JSON 1000 deep", wmsg("HELLO", deep)),
        ("HELLO JSON array", wmsg("HELLO", b"[1,2,3]")),
        ("HELLO trailing garbage", wmsg("HELLO", json.dumps(good).encode() + b" x")),
        ("HELLO NUL byte", wmsg("HELLO", json.dumps(good).encode() + b"\x00")),
        ("HELLO slots 0", wmsg("HELLO", hello("p", slots=0))),
        ("HELLO slots -1", wmsg("HELLO", hello("p", slots=-1))),
        ("HELLO slots 257", wmsg("HELLO", hello("p", slots=257))),
        ("HELLO slots 1e9", wmsg("HELLO", hello("p", slots=10 ** 9))),
        ("HELLO slots 2^63", wmsg("HELLO", hello("p", slots=2 ** 63))),
        ("HELLO slots 1e400", wmsg("HELLO", b'{"worker_id":"p","host":"h","pid":1,"slots":1e400}')),
        ("HELLO slots 2.5", wmsg("HELLO", hello("p", slots=2.5))),
        ("HELLO slots string", wmsg("HELLO", hello("p", slots="4"))),
        ("HELLO bad worker_id", wmsg("HELLO", hello("bad id!"))),
        ("HELLO without instance", wmsg("HELLO", {k: v for k, v in hello("p").items()
                                                  if k != "instance"})),
        ("HELLO short instance", wmsg("HELLO", hello("p", instance="abc123"))),
        ("HELLO upper-case instance", wmsg("HELLO", hello("p", instance="A" * 32))),
        ("HELLO finished not an array", wmsg("HELLO", hello("p", finished={"id": "victim"}))),
        ("HELLO finished > 1024", wmsg("HELLO", hello("p", finished=[
            {"id": "x%d" % i, "attempt": 1} for i in range(1025)]))),
        ("HELLO empty worker_id", wmsg("HELLO", hello(""))),
        ("HELLO host 300 bytes", wmsg("HELLO", hello("p", host="h" * 300))),
        ("HELLO pid -1", wmsg("HELLO", hello("p", pid=-1))),
        ("HELLO running not an array", wmsg("HELLO", hello("p", running={"id": "victim"}))),
        ("HELLO running > slots", wmsg("HELLO", hello("p", slots=1, running=[
            {"id": "a", "attempt": 1}, {"id": "b", "attempt": 1}]))),
        ("RESULT from an unknown peer", wmsg("RESULT", {
            "id": "victim", "attempt": 1, "outcome": "failed", "exit_code": 1})),
        ("BYE from an unknown peer", wmsg("BYE")),
        ("OUTPUT from an unknown peer", wmsg("OUTPUT", {
            "id": "victim", "attempt": 1, "stream": "stdout", "data": "forged"})),
    ]:
        dropped_unregistered(name, frames)
    responsive("malformed worker messages")
    victim_untouched("malformed worker messages")

    # A registered impostor: forged and stale results are acknowledged and ignored.
    evil = sock(zmq.DEALER, WEP)
    evil.send_multipart(wmsg("HELLO", hello("evil", slots=1)))
    cmd, body = recv_cmd(evil)
    check(cmd == "WELCOME", "evil HELLO -> WELCOME", "(got %s %s)" % (cmd, body))
    job = get_job("victim")
    attempt = job["attempts_log"][-1]["attempt"] if job else 1
    for name, result in [
        ("forged RESULT for the real worker's job", {"id": "victim", "attempt": attempt,
                                                     "outcome": "failed", "exit_code": 3}),
        ("RESULT for a job never given", {"id": "never-given", "attempt": 1,
                                         "outcome": "succeeded", "exit_code": 0}),
        ("RESULT for a stale attempt", {"id": "victim", "attempt": attempt + 5,
                                       "outcome": "succeeded", "exit_code": 0}),
        ("RESULT with absurd numbers", {"id": "never-given", "attempt": 2, "outcome": "failed",
                                       "exit_code": 10 ** 30, "signal": -5, "cpu_ms": -1e300,
                                       "max_rss_kb": 1e300, "started_at_ms": 2 ** 64,
                                       "error": "\u00e9" * 1000, "stdout_tail": "x" * 70000}),
    ]:
        evil.send_multipart(wmsg("RESULT", result))
        cmd, body = recv_cmd(evil)
        check(cmd == "ACK" and body == {"id": result["id"], "attempt": result["attempt"]},
              "evil %s -> ACK" % name, "(got %s %s)" % (cmd, body))
        victim_untouched(name)
    # Malformed RESULTs and broker-only commands are dropped without an answer:
    # the next valid RESULT's ACK is the first answer.
    for name, frames in [
        ("RESULT without body", wmsg("RESULT")),
        ("RESULT outcome worker_lost", wmsg("RESULT", {"id": "victim", "attempt": attempt,
                                                      "outcome": "worker_lost"})),
        ("RESULT attempt 0", wmsg("RESULT", {"id": "victim", "attempt": 0,
                                            "outcome": "failed"})),
        ("RESULT attempt 1e400", wmsg("RESULT", b'{"id":"victim","attempt":1e400,'
                                                b'"outcome":"failed"}')),
        ("RESULT attempt -1e400", wmsg("RESULT", b'{"id":"victim","attempt":-1e400,'
                                                 b'"outcome":"failed"}')),
        ("RESULT bad id", wmsg("RESULT", {"id": "../etc", "attempt": 1, "outcome": "failed"})),
        ("OUTPUT without body", wmsg("OUTPUT")),
        ("OUTPUT bad stream", wmsg("OUTPUT", {"id": "victim", "attempt": attempt,
                                              "stream": "stdin", "data": "x"})),
        ("OUTPUT attempt 2^40", wmsg("OUTPUT", {"id": "victim", "attempt": 2 ** 40,
                                                "stream": "stdout", "data": "x"})),
        ("JOB sent to the broker", wmsg("JOB", {"id": "victim", "attempt": 1,
                                                "command": "true", "timeout_s": 1})),
        ("ACK sent to the broker", wmsg("ACK", {"id": "victim", "attempt": 1})),
        ("CANCEL sent to the broker", wmsg("CANCEL", {"id": "victim", "attempt": attempt})),
        ("WELCOME sent to the broker", wmsg("WELCOME", {"heartbeat_ms": 1})),
        ("STOP sent to the broker", wmsg("STOP")),
        ("RESET sent to the broker", wmsg("RESET")),
    ]:
        evil.send_multipart(frames)
        evil.send_multipart(wmsg("RESULT", {"id": "sync", "attempt": 1, "outcome": "failed"}))
        cmd, body = recv_cmd(evil)
        check(cmd == "ACK" and body == {"id": "sync", "attempt": 1},
              "evil %s dropped (next answer is the sync ACK)" % name, "(got %s %s)" % (cmd, body))
    victim_untouched("malformed RESULTs and broker-only commands")

    # Live output for a job evil does not hold is dropped without an answer.
    evil.send_multipart(wmsg("OUTPUT", {"id": "victim", "attempt": attempt, "stream": "stdout",
                                        "data": "forged\n"}))
    evil.send_multipart(wmsg("RESULT", {"id": "sync", "attempt": 1, "outcome": "failed"}))
    cmd, body = recv_cmd(evil)
    check(cmd == "ACK" and body == {"id": "sync", "attempt": 1},
          "evil OUTPUT for the real worker's job dropped", "(got %s %s)" % (cmd, body))

    # A hostile worker given a real job reports texts that are too long: what
    # the broker stores and serves back (get) must still be UTF-8 JSON.
    # Dispatch goes to the free worker given a job least recently: evil.
    reply = call(b'{"op":"enqueue","job":{"id":"poison","command":"true","max_retries":0}}')
    check(isinstance(reply, dict) and reply.get("ok"), "enqueue poison", repr(reply))
    cmd, body = recv_cmd(evil)
    if check(cmd == "JOB" and body and body.get("id") == "poison",
             "poison dispatched to evil (least recently given)", "(got %s %s)" % (cmd, body)):
        evil.send_multipart(wmsg("RESULT", {
            "id": "poison", "attempt": body["attempt"], "outcome": "succeeded", "exit_code": 0,
            "error": "\u00e9" * 200, "stdout_tail": "\u00e9" * 32768 + "x",
            "stderr_tail": "y" + "\u00e9" * 40000}))
        cmd, body = recv_cmd(evil)
        check(cmd == "ACK", "evil RESULT for poison -> ACK", "(got %s %s)" % (cmd, body))
        reply = call(b'{"op":"get","id":"poison"}')
        check(isinstance(reply, dict) and reply.get("ok") and
              reply["job"]["state"] == "completed",
              "get poison: a valid UTF-8 JSON reply (error cut to 255 bytes, tails to 64 KiB)",
              reply if isinstance(reply, str) else repr(reply)[:300])
        if isinstance(reply, dict) and reply.get("ok"):
            tail = reply["job"].get("stdout_tail") or ""
            check(len(tail.encode()) <= 65536, "poison stdout_tail at most 64 KiB",
                  "(%d bytes)" % len(tail.encode()))

    # An impostor under the real worker's name, claiming its job: it is
    # registered under a name of its own, told to cancel the run it claims,
    # and its forged success is acknowledged and ignored; the real run goes on.
    twin = sock(zmq.DEALER, WEP)
    twin.send_multipart(wmsg("HELLO", hello("real", slots=1,
                                            running=[{"id": "victim", "attempt": attempt}],
                                            finished=[{"id": "victim", "attempt": attempt}])))
    answers = {}
    for _ in range(2):
        cmd, body = recv_cmd(twin)
        answers[cmd] = body
    check(set(answers) == {"CANCEL", "WELCOME"} and
          answers["WELCOME"].get("worker_id") == "real.2",
          "impostor HELLO under the name 'real' -> WELCOME as real.2 + CANCEL", repr(answers))
    twin.send_multipart(wmsg("STARTED", {"id": "victim", "attempt": attempt,
                                         "started_at_ms": 1}))
    twin.send_multipart(wmsg("RESULT", {"id": "victim", "attempt": attempt,
                                        "outcome": "succeeded", "exit_code": 0,
                                        "stdout_tail": "forged"}))
    cmd, body = recv_cmd(twin)
    check(cmd == "ACK", "impostor's forged success -> ACK (ignored)", "(got %s %s)" % (cmd, body))
    victim_untouched("an impostor under its worker's name")
    twin.send_multipart(wmsg("BYE"))
    twin.send_multipart(wmsg("HEARTBEAT"))
    cmd, _ = recv_cmd(twin)
    check(cmd == "RESET", "impostor BYE unregisters it", "(got %s)" % cmd)
    twin.close()

    # A worker that claims, in HELLO.running, a job it does not hold gets CANCEL.
    thief = sock(zmq.DEALER, WEP)
    thief.send_multipart(wmsg("HELLO", hello("thief", slots=2,
                                             running=[{"id": "victim", "attempt": attempt}])))
    answers = [recv_cmd(thief)[0], recv_cmd(thief)[0]]
    check(sorted(answers) == ["CANCEL", "WELCOME"], "thief HELLO claiming victim -> CANCEL + "
          "WELCOME", "(got %s)" % answers)
    victim_untouched("a HELLO claiming it")
    for s, name in [(evil, "evil"), (thief, "thief")]:
        s.send_multipart(wmsg("BYE"))
        # After BYE the peer is unknown again: a HEARTBEAT gets RESET.
        s.send_multipart(wmsg("HEARTBEAT"))
        cmd, _ = recv_cmd(s)
        check(cmd == "RESET", "%s BYE unregisters it" % name, "(got %s)" % cmd)
        s.close()
    victim_untouched("the impostors left")


# ---------------------------------------------------------------- client side
def client_probes():
    deep_obj = ('{"op":"ping","x":' + '{"a":' * 1000 + "1" + "}" * 1000 + "}").encode()
    deep_arr = ("[" * 1000 + "]" * 1000).encode()
    # Echoed back cut at 64 or 128 bytes: both limits fall inside a character.
    e63 = "a" + "\u00e9" * 100
    for name, payload, code in [
        ("empty frame", b"", "bad_request"),
        ("not JSON", b"not json", "bad_request"),
        ("invalid UTF-8", b'{"op":"ping","x":"\xff\xfe"}', "bad_request"),
        ("overlong UTF-8", b'{"op":"ping","x":"\xc0\xaf"}', "bad_request"),
        ("UTF-8 surrogate", b'{"op":"ping","x":"\xed\xa0\x80"}', "bad_request"),
        ("lone surrogate escape", b'{"op":"ping","x":"\\ud800"}', "bad_request"),
        ("NUL byte", b'{"op":"ping"}\x00', "bad_request"),
        ("truncated JSON", b'{"op":"ping"', "bad_request"),
        ("trailing data", b'{"op":"ping"} {}', "bad_request"),
        ("JSON array", b'["op","ping"]', "bad_request"),
        ("JSON string", b'"ping"', "bad_request"),
        ("object 1000 deep", deep_obj, "bad_request"),
        ("array 1000 deep", deep_arr, "bad_request"),
        ("object 17 deep", ('{"op":"ping","x":' + '{"a":' * 16 + "1" + "}" * 16 + "}").encode(),
         "bad_request"),
        ("op missing", b'{"ping":1}', "bad_request"),
        ("op a number", b'{"op":5}', "bad_request"),
        ("op null", b'{"op":null}', "bad_request"),
        ("unknown op", b'{"op":"frobnicate"}', "unknown_op"),
        ("unknown op, long UTF-8 name", json.dumps({"op": e63}, ensure_ascii=False).encode(),
         "unknown_op"),
        ("enqueue without job", b'{"op":"enqueue"}', "bad_request"),
        ("enqueue job and jobs", b'{"op":"enqueue","job":{"command":"true"},"jobs":[]}',
         "bad_request"),
        ("enqueue jobs not an array", b'{"op":"enqueue","jobs":{"command":"true"}}',
         "bad_request"),
        ("enqueue empty batch", b'{"op":"enqueue","jobs":[]}', "too_large"),
        ("enqueue 10001 jobs", json.dumps({"op": "enqueue", "jobs": [{"command": "true"}] *
                                           10001}).encode(), "too_large"),
        ("enqueue job not an object", b'{"op":"enqueue","job":"true"}', "invalid_job"),
        ("enqueue unknown field", b'{"op":"enqueue","job":{"command":"true","cmd":1}}',
         "invalid_job"),
        ("enqueue unknown field, long UTF-8 name",
         json.dumps({"op": "enqueue", "job": {"command": "true", e63: 1}},
                    ensure_ascii=False).encode(), "invalid_job"),
        ("enqueue invalid id, long UTF-8",
         json.dumps({"op": "enqueue", "job": {"command": "true", "id": e63}},
                    ensure_ascii=False).encode(), "invalid_job"),
        # PROTOCOL.md 2.2: no NUL in a command; cJSON would silently cut the
        # string at "\u0000" and run (or name) something else.
        ("enqueue command with NUL", b'{"op":"enqueue","job":{"id":"nul-cmd",'
                                     b'"command":"echo a\\u0000; echo b"}}',
         ("invalid_job", "bad_request")),
        ("enqueue id with NUL", b'{"op":"enqueue","job":{"id":"nul\\u0000id",'
                                b'"command":"true"}}', ("invalid_job", "bad_request")),
        ("enqueue command 70,000 bytes", json.dumps({"op": "enqueue", "job": {
            "command": "x" * 70000}}).encode(), "invalid_job"),
        ("enqueue max_retries 1e400", b'{"op":"enqueue","job":{"command":"true",'
                                      b'"max_retries":1e400}}', "invalid_job"),
        ("enqueue priority -1e400", b'{"op":"enqueue","job":{"command":"true",'
                                    b'"priority":-1e400}}', "invalid_job"),
        ("enqueue delay_s 1e400", b'{"op":"enqueue","job":{"command":"true",'
                                  b'"delay_s":1e400}}', "invalid_job"),
        ("enqueue timeout_s 2^63", b'{"op":"enqueue","job":{"command":"true",'
                                   b'"timeout_s":9223372036854775808}}', "invalid_job"),
        ("enqueue run_at garbage", b'{"op":"enqueue","job":{"command":"true",'
                                   b'"run_at":"9999-99-99T99:99"}}', "invalid_job"),
        ("batch with one bad job", b'{"op":"enqueue","jobs":[{"id":"bb1","command":"true"},'
                                   b'{"id":"bb2"}]}', "invalid_job"),
        ("get without id", b'{"op":"get"}', "bad_request"),
        ("get id a number", b'{"op":"get","id":7}', "bad_request"),
        ("list limit 1e400", b'{"op":"list","limit":1e400}', "bad_request"),
        ("list limit 0", b'{"op":"list","limit":0}', "bad_request"),
        ("list cursor huge", b'{"op":"list","cursor":"99999999999999999999999"}',
         "bad_request"),
        ("list state bogus", b'{"op":"list","state":"running"}', "bad_request"),
        ("config.set unknown key", b'{"op":"config.set","key":"nope","value":1}',
         "invalid_config"),
        ("config.set value 1e400", b'{"op":"config.set","key":"max-retries","value":1e400}',
         "invalid_config"),
        ("config.set value object", b'{"op":"config.set","key":"max-retries","value":{}}',
         "bad_request"),
        ("config.get unknown key, long UTF-8", json.dumps({"op": "config.get", "key": e63},
                                                          ensure_ascii=False).encode(),
         "invalid_config"),
        ("workers.stop unknown, long UTF-8",
         json.dumps({"op": "workers.stop", "worker_id": e63 * 4}, ensure_ascii=False).encode(),
         "not_found"),
        ("dlq.retry unknown id", b'{"op":"dlq.retry","id":"nope"}', "not_found"),
        ("cancel without id", b'{"op":"cancel"}', "bad_request"),
        ("cancel unknown id", b'{"op":"cancel","id":"never-was"}', "not_found"),
        ("prune without states", b'{"op":"prune"}', "bad_request"),
        ("prune state pending", b'{"op":"prune","states":["pending"]}', "bad_request"),
        ("prune states not strings", b'{"op":"prune","states":["completed",7]}', "bad_request"),
        ("prune older_than_s -1", b'{"op":"prune","states":["completed"],"older_than_s":-1}',
         "bad_request"),
        ("dlq.purge older_than_s 1e400", b'{"op":"dlq.purge","older_than_s":1e400}',
         "bad_request"),
    ]:
        expect_error(name, payload, code)
    # The refused batch stored nothing, nor did the refused NUL jobs.
    check(get_job("bb1") is None, "a refused batch stored none of its jobs")
    check(get_job("nul-cmd") is None and get_job("nul") is None,
          "no job stored from a request with NUL in a string")
    responsive("malformed requests")

    # A raw DEALER: [empty, payload] is a REQ envelope; anything else is dropped.
    d = sock(zmq.DEALER, CEP)

    def dealer_round(frames, label, expect):
        d.send_multipart(frames)
        d.send_multipart([b"", b'{"op":"ping"}'])
        got = []
        for _ in range(2 if expect else 1):
            if not d.poll(5000):
                break
            got.append(d.recv_multipart())
        replies = [parse_reply(f[-1]) if len(f) == 2 and f[0] == b"" else "bad envelope %r" % f
                   for f in got]
        if expect is None:
            ok = len(replies) == 1 and isinstance(replies[0], dict) and "version" in replies[0]
        else:
            ok = (len(replies) == 2 and isinstance(replies[0], dict) and
                  (replies[0].get("error") or {}).get("code") == expect and
                  isinstance(replies[1], dict) and "version" in replies[1])
        check(ok, "raw DEALER %s -> %s" % (label, expect or "dropped, no reply"),
              repr(replies)[:300])

    dealer_round([b'{"op":"status"}'], "without the empty delimiter", None)
    dealer_round([b"x", b'{"op":"status"}'], "with a non-empty delimiter", None)
    dealer_round([b""], "delimiter only", "bad_request")
    dealer_round([b"", b'{"op":"status"}', b"second"], "two request frames", "bad_request")
    dealer_round([b"", b"", b'{"op":"status"}'], "two delimiters", "bad_request")
    # A valid request: exactly one reply.
    d.send_multipart([b"", b'{"op":"status"}'])
    check(d.poll(5000) and "counts" in parse_reply(d.recv_multipart()[-1]) and not d.poll(300),
          "raw DEALER [empty, status] -> exactly one reply")
    d.close()
    responsive("malformed envelopes")


# ------------------------------------------------------------ oversized frames
def oversized():
    for label, endpoint, kind in [("worker", WEP, zmq.DEALER), ("client", CEP, zmq.REQ)]:
        s = ctx.socket(kind)
        s.setsockopt(zmq.LINGER, 0)
        mon = s.get_monitor_socket(zmq.EVENT_CONNECTED | zmq.EVENT_DISCONNECTED)
        s.connect(endpoint)
        events = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and zmq.EVENT_CONNECTED not in events:
            if mon.poll(500):
                events.append(zmq.utils.monitor.recv_monitor_message(mon)["event"])
        big = b"{" + b" " * (17 * 1024 * 1024) + b"}"
        if kind == zmq.DEALER:
            s.send_multipart([b"QCW1", b"HELLO", big])
        else:
            s.send(big)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and zmq.EVENT_DISCONNECTED not in events:
            if mon.poll(500):
                events.append(zmq.utils.monitor.recv_monitor_message(mon)["event"])
        check(zmq.EVENT_DISCONNECTED in events,
              "17 MiB frame on the %s socket: connection dropped" % label, "(events %s)" % events)
        s.disable_monitor()
        mon.close()
        s.close()
        responsive("a 17 MiB frame on the %s socket" % label)
    # Large but allowed (15 MiB): refused by content, with a reply.
    expect_error("15 MiB request that is not JSON", b"x" * (15 * 1024 * 1024), "bad_request")
    expect_error("15 MiB command", json.dumps({"op": "enqueue", "job": {
        "command": "x" * (15 * 1024 * 1024)}}).encode(), "invalid_job")


# ------------------------------------------------------------------- flooding
def flood(count):
    t = time.monotonic()
    workers = [sock(zmq.DEALER, WEP) for _ in range(count // 2)]
    clients = [sock(zmq.REQ, CEP) for _ in range(count - count // 2)]
    for s in workers:
        s.send_multipart(wmsg("HEARTBEAT"))
    for s in clients:
        s.send(b'{"op":"status"}')
    poller = zmq.Poller()
    for s in workers + clients:
        poller.register(s, zmq.POLLIN)
    waiting = set(workers + clients)
    bad = []
    deadline = time.monotonic() + 20
    while waiting and time.monotonic() < deadline:
        for s, _ in poller.poll(500):
            if s not in waiting:
                s.recv_multipart()
                continue
            frames = s.recv_multipart()
            if s in clients:
                reply = parse_reply(frames[-1])
                if not (isinstance(reply, dict) and reply.get("ok")):
                    bad.append(reply)
            elif frames[1] == b"HEARTBEAT":
                continue
            elif frames[1] != b"RESET":
                bad.append(frames)
            waiting.discard(s)
            poller.unregister(s)
    check(not waiting and not bad, "flood of %d connections: every REQ answered, every unknown "
          "DEALER told RESET (%.1fs)" % (count, time.monotonic() - t),
          "(%d unanswered, bad: %r)" % (len(waiting), bad[:3]))
    for s in workers + clients:
        s.close()
    responsive("the flood")


def main():
    worker_probes()
    client_probes()
    oversized()
    flood(int(os.environ.get("QC_FLOOD", "500")))
    victim_untouched("every probe")
    print("# %d probes failed, %.1fs" % (len(failures), time.monotonic() - T0))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
