#!/usr/bin/env bash
# Worker SIGKILL loop: two clients enqueue 2,000 jobs concurrently while three
# workers run them; a random worker is SIGKILLed at random moments and a new
# one started. No job is lost, none stays processing once the liveness
# window of its dead worker has passed, each is completed exactly once in the
# database, and each ran at least once.
. "$(dirname "$0")/fault_lib.sh"
"$PY" -c "import zmq" || fail "python3-zmq is not installed for $PY"
JOBS_PER_CLIENT=${QC_FAULT_JOBS:-1000}
KILLS=${QC_FAULT_KILLS:-8}
d=$QUEUECTL_HOME

start_broker --liveness 1s --heartbeat 250ms
qc config set backoff-base 1 >/dev/null # a lost job's retry waits 1 s, not 2^n s
declare -A wpid=()
n=0
new_worker() {
    n=$((n + 1))
    start_worker --concurrency 4 --name "w$n"
    wpid[w$n]=$WORKER_PID
}
for _ in 1 2 3; do new_worker; done
wait_for 10 workers_are 3

# At most 200 jobs/s per client; one job in 4 takes 0.2 s, so each kill
# finds jobs running (and the others keep the run short).
start_load 4

killed=()
for _ in $(seq "$KILLS"); do
    sleep_ms "$(rand_ms 200 1200)"
    names=("${!wpid[@]}")
    victim=${names[RANDOM % ${#names[@]}]}
    busy=$(sql "SELECT COUNT(*) FROM jobs WHERE state = 1 AND worker_id = '$victim'")
    note "$(elapsed): kill -9 worker $victim (pid ${wpid[$victim]}, $busy jobs processing)"
    kill -KILL "${wpid[$victim]}"
    wait "${wpid[$victim]}" 2>/dev/null || true
    forget_pid "${wpid[$victim]}"
    unset "wpid[$victim]"
    killed+=("'$victim'")
    new_worker
done
last_kill=$(date +%s%N)

# Jobs held by the dead workers are failed (worker_lost) once the liveness
# window (1 s) has passed; they must not stay processing.
stuck() { [ "$(sql "SELECT COUNT(*) FROM jobs WHERE state = 1 AND worker_id IN ($(IFS=,; echo "${killed[*]}"))")" = 0 ]; }
wait_for 5 stuck
note "$(elapsed): no job left processing on a dead worker $(( ($(date +%s%N) - last_kill) / 1000000 ))ms after the last kill"

# Workers died, the broker did not: each lost job is "worker lost (no
# heartbeat)"; no worker may have been sent more jobs than its free slots.
finish_load
note "ok in $(elapsed)"
