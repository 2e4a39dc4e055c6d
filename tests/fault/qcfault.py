#!/usr/bin/python3
"""Helpers for the fault tests (python3-zmq, sqlite3 from the standard library).

  qcfault.py ping ENDPOINT
      exit 0 if a broker answers a ping within 1 s.
  qcfault.py enqueue ENDPOINT CLIENT COUNT BATCH_MAX RATE COMMAND_FMT OUT DEADLINE_S [SLOW_EVERY]
      enqueues COUNT jobs with ids c<CLIENT>-<n> in batches of 1..BATCH_MAX, at
      most RATE jobs a second (so the enqueueing overlaps the faults); in
      COMMAND_FMT {id} is the job id and {slow} is "sleep 0.2; " for every
      SLOW_EVERY-th job (so faults find jobs running), "" otherwise;
      Lazy Pirate style: a REQ that gets no answer within 1 s is thrown away
      and the same batch is sent again on a fresh socket. Ids whose enqueue was
      acknowledged go to OUT (one a line), ids that came back "duplicate" on a
      retry (committed, the answer lost) to OUT.dup.
  qcfault.py verify [--forbid ERROR]... DB RANLOG ACKED_FILES...
      checks the end state of the kill loops (see s_verify), prints the
      figures, and fails if an attempt failed with a forbidden error text.
"""
import json
import os
import random
import sqlite3
import sys
import time

import zmq

STATE_COMPLETED = 2
OUTCOME_SUCCEEDED = 0


def s_req(ctx, endpoint):
    """A REQ socket connected to ENDPOINT, or to each of a comma-separated
    list of brokers (one active): ZMQ_IMMEDIATE so only live connections
    carry requests, and a send that finds none times out after 1 s."""
    s = ctx.socket(zmq.REQ)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.SNDTIMEO, 1000)
    if "," in endpoint:
        s.setsockopt(zmq.IMMEDIATE, 1)
    for one in endpoint.split(","):
        s.connect(one)
    return s


def ping(endpoint):
    ctx = zmq.Context.instance()
    s = s_req(ctx, endpoint)
    try:
        s.send(b'{"op":"ping"}')
    except zmq.Again:
        s.close()
        return 1
    ok = s.poll(1000) and json.loads(s.recv()).get("ok") is True
    s.close()
    return 0 if ok else 1


def enqueue(endpoint, client, count, batch_max, rate, command_fmt, out_path, deadline_s,
            slow_every=0):
    ctx = zmq.Context.instance()
    rng = random.Random(os.getpid())
    start = time.monotonic()
    deadline = start + deadline_s
    ids = ["c%d-%d" % (client, i) for i in range(count)]
    slow = {x: "sleep 0.2; " if slow_every and i % slow_every == 0 else ""
            for i, x in enumerate(ids)}
    stats = {"requests": 0, "no_answer": 0, "acked": 0, "dup_on_retry": 0, "storage": 0,
             "in_doubt": 0}
    sock = None
    with open(out_path, "w") as acked, open(out_path + ".dup", "w") as dup:
        i = 0
        while i < count:
            pause = start + i / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            batch = ids[i:i + rng.randint(1, batch_max)]
            body = json.dumps({"op": "enqueue", "jobs": [
                {"id": x, "command": command_fmt.format(id=x, slow=slow[x]), "max_retries": 50}
                for x in batch]}).encode()
            retried = False
            while True:
                if time.monotonic() > deadline:
                    sys.exit("client %d: deadline passed at job %d of %d (%s)"
                             % (client, i, count, stats))
                if sock is None:
                    sock = s_req(ctx, endpoint)
                stats["requests"] += 1
                try:
                    sock.send(body)
                    answered = sock.poll(1000)
                except zmq.Again:  # no live broker connection yet
                    answered = False
                if not answered:
                    # No answer: the broker may have died before or after its
                    # commit. A REQ socket is stuck after a lost reply: new one.
                    stats["no_answer"] += 1
                    sock.close()
                    sock = None
                    retried = True
                    continue
                reply = json.loads(sock.recv())
                if reply.get("ok"):
                    if reply.get("ids") != batch:
                        sys.exit("client %d: acknowledged ids %r, sent %r"
                                 % (client, reply.get("ids"), batch))
                    acked.write("".join(x + "\n" for x in batch))
                    acked.flush()
                    stats["acked"] += len(batch)
                    break
                code = reply["error"]["code"]
                if code == "duplicate" and retried:
                    # A batch is atomic: an earlier try committed all of it.
                    dup.write("".join(x + "\n" for x in batch))
                    dup.flush()
                    stats["dup_on_retry"] += len(batch)
                    break
                if code == "storage":  # nothing was stored: a duplicate now would be a lie
                    stats["storage"] += 1
                    time.sleep(0.05)
                    continue
                if code == "in_doubt":  # may have been stored: like no answer
                    stats["in_doubt"] += 1
                    retried = True
                    time.sleep(0.05)
                    continue
                sys.exit("client %d: unexpected reply %r" % (client, reply))
            i += len(batch)
    if sock is not None:
        sock.close()
    print("# client %d: %s" % (client, json.dumps(stats)))
    return 0


def s_verify(db_path, ranlog, acked_files, forbidden_errors):
    acked, dups = set(), set()
    for path in acked_files:
        with open(path) as f:
            acked.update(line.strip() for line in f if line.strip())
        if os.path.exists(path + ".dup"):
            with open(path + ".dup") as f:
                dups.update(line.strip() for line in f if line.strip())
    ran = {}
    with open(ranlog) as f:
        for line in f:
            line = line.strip()
            if line:
                ran[line] = ran.get(line, 0) + 1

    db = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True)
    problems = []
    integrity = db.execute("PRAGMA integrity_check").fetchall()
    if integrity != [("ok",)]:
        problems.append("integrity_check: %r" % integrity[:5])
    jobs = {row[0]: row[1:] for row in db.execute(
        "SELECT id, state, attempts, runs, seq FROM jobs")}
    succeeded = dict(db.execute(
        "SELECT j.id, COUNT(*) FROM attempts a JOIN jobs j ON j.seq = a.job_seq"
        " WHERE a.outcome = ? GROUP BY j.id", (OUTCOME_SUCCEEDED,)))
    attempts = dict(db.execute(
        "SELECT j.id, COUNT(*) FROM attempts a JOIN jobs j ON j.seq = a.job_seq GROUP BY j.id"))
    unfinished = db.execute(
        "SELECT COUNT(*) FROM attempts WHERE outcome IS NULL OR finished_at IS NULL").fetchone()[0]
    outcomes = db.execute(
        "SELECT outcome, COUNT(*) FROM attempts GROUP BY outcome ORDER BY outcome").fetchall()

    errors = db.execute(
        "SELECT outcome, error, COUNT(*) FROM attempts WHERE outcome != ?"
        " GROUP BY outcome, error ORDER BY 3 DESC LIMIT 6", (OUTCOME_SUCCEEDED,)).fetchall()

    lost = sorted(acked - set(jobs))
    lost_dups = sorted(dups - set(jobs))
    not_completed = sorted(i for i, row in jobs.items() if row[0] != STATE_COMPLETED)
    twice = sorted(i for i, n in succeeded.items() if n > 1)
    never_succeeded = sorted(i for i in jobs if succeeded.get(i, 0) == 0)
    not_in_log = sorted(i for i in jobs if i not in ran)
    strangers = sorted(i for i in ran if i not in jobs)
    rerun = sorted(i for i, n in ran.items() if n > 1)
    multi_attempt = sorted(i for i, n in attempts.items() if n > 1)
    runs_mismatch = sorted(i for i, row in jobs.items() if row[2] != attempts.get(i, 0))

    names = ["succeeded", "failed", "timed_out", "killed", "worker_lost", "spawn_failed",
             "canceled", "not_started"]
    print("# jobs acknowledged: %d (+%d committed with the answer lost), in the database: %d"
          % (len(acked), len(dups), len(jobs)))
    print("# lost: %d, not completed: %d, completed twice: %d, re-executed (ran more than once"
          " per the log): %d, with more than one attempt: %d"
          % (len(lost) + len(lost_dups), len(not_completed), len(twice), len(rerun),
             len(multi_attempt)))
    print("# attempt outcomes: %s" % ", ".join(
        "%s=%d" % (names[o] if o is not None and 0 <= o < len(names) else o, n)
        for o, n in outcomes))
    for outcome, error, n in errors:
        print("#   %d x %s: %s" % (n, names[outcome] if 0 <= outcome < len(names) else outcome,
                                   error))
    for label, items in [("acknowledged but missing from the database", lost),
                         ("committed (duplicate on retry) but missing", lost_dups),
                         ("not completed", not_completed),
                         ("completed twice", twice),
                         ("no succeeded attempt", never_succeeded),
                         ("never ran (not in the log)", not_in_log),
                         ("in the log but not in the database", strangers),
                         ("runs != attempts rows", runs_mismatch)]:
        if items:
            problems.append("%d %s, e.g. %s" % (len(items), label, items[:5]))
    if unfinished:
        problems.append("%d attempts never finished" % unfinished)
    for text in forbidden_errors:
        n = db.execute("SELECT COUNT(*) FROM attempts WHERE error = ?", (text,)).fetchone()[0]
        if n:
            problems.append("%d attempts failed with \"%s\"" % (n, text))
    for p in problems:
        print("FAIL: " + p, file=sys.stderr)
    return 1 if problems else 0


def main(argv):
    if argv[1] == "ping":
        return ping(argv[2])
    if argv[1] == "enqueue":
        return enqueue(argv[2], int(argv[3]), int(argv[4]), int(argv[5]), float(argv[6]),
                       argv[7], argv[8], float(argv[9]), int(argv[10]) if len(argv) > 10 else 0)
    if argv[1] == "verify":
        args, forbidden = argv[2:], []
        while args and args[0] == "--forbid":
            forbidden.append(args[1])
            args = args[2:]
        return s_verify(args[0], args[1], args[2:], forbidden)
    sys.exit("unknown command " + argv[1])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
