#!/usr/bin/python3
"""Enqueue a job over queuectl's client protocol and wait for its result.

Uses only pyzmq (Debian: python3-zmq). The protocol is one JSON object per
frame each way, over REQ/REP: see docs/PROTOCOL.md.

    QUEUECTL_HOME=~/.queuectl scripts/example_client.py 'echo hello from python'
"""
import json
import os
import sys
import time

import zmq


def endpoint():
    if os.environ.get("QUEUECTL_BROKER"):
        return os.environ["QUEUECTL_BROKER"]
    home = os.environ.get("QUEUECTL_HOME") or os.path.expanduser("~/.queuectl")
    return "ipc://" + os.path.join(home, "client.sock")


class Client:
    """A REQ client that never hangs: each call waits at most timeout_ms."""

    def __init__(self, ep, timeout_ms=2000):
        self.ep, self.timeout_ms = ep, timeout_ms
        self.ctx = zmq.Context.instance()

    def call(self, op, **args):
        sock = self.ctx.socket(zmq.REQ)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(self.ep)
        try:
            sock.send_string(json.dumps({"op": op, **args}))
            if not sock.poll(self.timeout_ms):
                raise TimeoutError(f"no broker answered at {self.ep}")
            reply = json.loads(sock.recv())
        finally:
            sock.close()
        if not reply["ok"]:
            raise RuntimeError(f"{reply['error']['code']}: {reply['error']['message']}")
        return reply


def main():
    command = " ".join(sys.argv[1:]) or "echo hello from python"
    client = Client(endpoint())
    job_id = client.call("enqueue", job={"command": command, "max_retries": 1})["id"]
    print(f"enqueued {job_id}: {command}")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = client.call("get", id=job_id)["job"]
        if job["state"] in ("completed", "dead"):
            print(f"{job_id} {job['state']} (exit code {job['exit_code']})")
            print(job["stdout_tail"] or "", end="")
            return 0 if job["state"] == "completed" else 1
        time.sleep(0.05)
    print(f"{job_id} did not finish within 60s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
