#!/usr/bin/python3
"""Enqueue a job over queuectl's client protocol and wait for its result.

Uses the small pyzmq client in scripts/queuectl_client.py (Debian: python3-zmq).
The protocol is one JSON object per frame each way, over REQ/REP: see
docs/PROTOCOL.md.

    QUEUECTL_HOME=~/.queuectl scripts/example_client.py 'echo hello from python'
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from queuectl_client import Client  # noqa: E402


def main():
    command = " ".join(sys.argv[1:]) or "echo hello from python"
    client = Client()
    job_id = client.enqueue(command, max_retries=1)
    print(f"enqueued {job_id}: {command}")
    job = client.wait(job_id, timeout=60)
    print(f"{job_id} {job['state']} (exit code {job['exit_code']})")
    print(job["stdout_tail"] or "", end="")
    return 0 if job["state"] == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())
