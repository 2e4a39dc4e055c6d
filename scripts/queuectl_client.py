"""A small Python client for queuectl (pyzmq only; Debian: python3-zmq).

    from queuectl_client import Client
    q = Client()                       # QUEUECTL_BROKER, else ~/.queuectl's broker
    job_id = q.enqueue("echo hi", max_retries=2)
    ids = q.enqueue_many([{"command": "true"}] * 100)   # atomic
    job = q.wait(job_id)               # until completed, dead or canceled
    print(job["state"], job["stdout_tail"])
    for j in q.list(state="dead", limit=20): ...
    q.search("deploy"); q.states(ids); q.retry_dead()

Speaks the client protocol in docs/PROTOCOL.md: one JSON object per frame
over REQ/REP. Each call waits at most `timeout` seconds and never hangs.
"""
import json
import os
import time

import zmq


class QueueError(Exception):
    """The broker refused a request: .code is its error code."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


class NoBroker(Exception):
    """No broker answered in time."""


def default_endpoint():
    if os.environ.get("QUEUECTL_BROKER"):
        return os.environ["QUEUECTL_BROKER"]
    home = os.environ.get("QUEUECTL_HOME") or os.path.expanduser("~/.queuectl")
    return "ipc://" + os.path.join(home, "client.sock")


class Client:
    def __init__(self, endpoint=None, timeout=2.0):
        self.endpoint = endpoint or default_endpoint()
        self.timeout_ms = int(timeout * 1000)
        self._ctx = zmq.Context.instance()
        self._sock = None

    def _socket(self):
        if self._sock is None:
            self._sock = self._ctx.socket(zmq.REQ)
            self._sock.setsockopt(zmq.LINGER, 0)
            self._sock.setsockopt(zmq.SNDTIMEO, self.timeout_ms)
            if "," in self.endpoint:  # several brokers, one active: live connections only
                self._sock.setsockopt(zmq.IMMEDIATE, 1)
            for one in self.endpoint.split(","):
                self._sock.connect(one)
        return self._sock

    def call(self, op, **args):
        sock = self._socket()
        try:
            sock.send_string(json.dumps({"op": op, **args}))
            answered = sock.poll(self.timeout_ms)
        except zmq.Again:  # no broker connection is up
            answered = False
        if not answered:
            # REQ is stuck waiting for this reply: start over next time.
            sock.close()
            self._sock = None
            raise NoBroker(f"no broker answered at {self.endpoint}")
        reply = json.loads(sock.recv())
        if not reply.get("ok"):
            raise QueueError(reply["error"]["code"], reply["error"]["message"])
        return reply

    def enqueue(self, command, **fields):
        return self.call("enqueue", job={"command": command, **fields})["id"]

    def enqueue_many(self, jobs):
        return self.call("enqueue", jobs=list(jobs))["ids"]

    def get(self, job_id):
        return self.call("get", id=job_id)["job"]

    def wait(self, job_id, timeout=None):
        """Polls the job's state alone (the states op); returns the whole job
        (with its output) once it is completed, dead or canceled."""
        deadline = None if timeout is None else time.monotonic() + timeout
        pause, by_state, done = 0.01, True, ("completed", "dead", "canceled")
        while True:
            state = None
            if by_state:
                try:
                    state = self.states([job_id])[job_id]
                except QueueError as err:
                    if err.code != "unknown_op":
                        raise
                    by_state = False  # an older broker: read the whole job each time
            if not by_state or state is None or state in done:
                job = self.get(job_id)  # an unknown id raises not_found here
                if job["state"] in done:
                    return job
                state = job["state"]
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"{job_id} still {state}")
            time.sleep(pause)
            pause = min(pause * 2, 0.2)

    def list(self, state=None, limit=100):
        args = {"limit": limit}
        if state:
            args["state"] = state
        return self.call("list", **args)["jobs"]

    def search(self, text, state=None, limit=100):
        """Every job whose id or command contains text, newest first (the
        broker looks at 10,000 jobs per request and pages on by itself)."""
        args = {"q": text, "limit": limit}
        if state:
            args["state"] = state
        found, cursor = [], None
        while len(found) < limit:
            reply = self.call("list", **args, **({"cursor": cursor} if cursor else {}))
            found += reply["jobs"]
            cursor = reply["next_cursor"]
            if not cursor:
                break
            args["limit"] = limit - len(found)
        return found

    def states(self, ids):
        """{id: state} for many jobs in one request (None for an unknown id)."""
        return {j["id"]: j["state"] for j in self.call("states", ids=list(ids))["jobs"]}

    def retry_dead(self, ids=None):
        """Back to pending: the dead jobs named in ids, or every dead job.
        Returns the ids retried."""
        if ids is not None:
            return self.call("dlq.retry", ids=list(ids))["retried"]
        retried, cursor = [], None
        while True:
            reply = self.call("dlq.retry", all=True, **({"cursor": cursor} if cursor else {}))
            retried += reply["retried"]
            cursor = reply["next_cursor"]
            if not reply["more"]:
                return retried

    def status(self):
        return self.call("status")

    def close(self):
        if self._sock is not None:
            self._sock.close()
            self._sock = None
