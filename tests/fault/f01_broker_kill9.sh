#!/usr/bin/env bash
# Broker SIGKILL loop: two clients enqueue 2,000 jobs concurrently (retrying
# unanswered requests on a fresh REQ socket) while three workers run them;
# the broker is SIGKILLed at 5 random moments and restarted on the same
# QUEUECTL_HOME. At the end every acknowledged job exists, every job is
# completed exactly once in the database, every job ran at least once, and
# the database passes integrity_check.
. "$(dirname "$0")/fault_lib.sh"
"$PY" -c "import zmq" || fail "python3-zmq is not installed for $PY"
JOBS_PER_CLIENT=${QC_FAULT_JOBS:-1000}
KILLS=${QC_FAULT_KILLS:-5}
# Liveness 2 s: short, yet a loaded machine (ctest -j2, ASan) does not make a
# worker miss it and reconnect by itself, which this test would misread.
FLAGS=(--liveness 2s --heartbeat 250ms)
d=$QUEUECTL_HOME

start_broker "${FLAGS[@]}"
# Retries of jobs lost with the broker wait 1 s, not 2^n s.
qc config set backoff-base 1 >/dev/null
for w in 1 2 3; do start_worker --concurrency 4 --name "w$w"; done
wait_for 10 workers_are 3

# At most 200 jobs/s per client: the enqueueing spans the first kills.
# One job in 8 takes 0.2 s, so kills also find jobs running.
start_load 8

# Kill at random moments while clients enqueue and workers run. The broker
# stays down a while (a supervisor's restart delay); each restart waits until
# the new broker answers (its predecessor is reaped first, so the data-dir
# lock is free).
for k in $(seq "$KILLS"); do
    sleep_ms "$(rand_ms 300 1500)"
    # (A client slow to start has no acked file yet: under pipefail a failed
    # cat would end the test silently.)
    done_now=$( (cat "$d"/acked.[01] 2>/dev/null || true) | wc -l)
    # The first kills keep it down 0.4-1.5 s: several heartbeats queue up in
    # each worker's socket but its liveness (2 s) has not run out; the last
    # ones 0-2.5 s, sometimes longer than the liveness window.
    if [ "$k" -le 3 ]; then down=$(rand_ms 400 1500); else down=$(rand_ms 0 2500); fi
    note "$(elapsed): kill -9 #$k (acknowledged so far: $done_now), down for ${down}ms"
    kill9_broker_reap
    sleep_ms "$down"
    restart_broker "${FLAGS[@]}"
done

# Only the broker died: no worker ever lost a job it was running (a worker
# that re-registers on the same broker lists what it runs), and no worker
# was sent more jobs than it had free slots (spawn_failed "no free slot").
finish_load
note "ok in $(elapsed)"
