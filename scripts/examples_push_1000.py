#!/usr/bin/python3
"""Push 1,000 jobs from a script, wait for them, print the failures."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from queuectl_client import Client  # noqa: E402

count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
q = Client()
# every 100th job fails on purpose, to have something to report
jobs = [{"command": f"echo job {i}" + ("; exit 5" if i % 100 == 99 else ""), "max_retries": 0}
        for i in range(count)]
ids = q.enqueue_many(jobs)
print(f"enqueued {len(ids)} jobs")
failures = [job for job in map(q.wait, ids) if job["state"] != "completed"]
for job in failures:
    print(f"failed: {job['id']} ({job['command']}) exit {job['exit_code']}")
print(f"{len(ids)} jobs, {len(ids) - len(failures)} completed, {len(failures)} failed")
