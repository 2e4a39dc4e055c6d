#!/usr/bin/env bash
# Stop means stopped: after 'worker stop' returns its workers' processes are
# gone; --wait-timeout gives up with exit 4; --no-wait returns at once;
# after 'broker stop' returns the broker's process is gone.
. "$(dirname "$0")/lib.sh"
# A pid is gone if it has no /proc entry or is a zombie; anything but a pid
# fails the test (an empty one would look "not gone" forever).
gone() {
    [[ $1 =~ ^[0-9]+$ ]] || fail "gone: not a pid: '$1'"
    [ ! -e "/proc/$1" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

start_workers_cli 2 2>/dev/null
pids=("${QC_PIDS[@]}")
qc enqueue --id slow -- 'sleep 1.5; echo done' >/dev/null
wait_for 10 state_is slow processing
qc worker stop >"$QUEUECTL_HOME/out" 2>"$QUEUECTL_HOME/err" || fail "worker stop: rc=$?"
for p in "${pids[@]}"; do gone "$p" || fail "worker $p still running after worker stop returned"; done
grep_q "asked 2 workers to stop" "$QUEUECTL_HOME/out" || fail "output: $(cat "$QUEUECTL_HOME/out")"
grep_q -x "2 workers stopped" "$QUEUECTL_HOME/out" || fail "output: $(cat "$QUEUECTL_HOME/out")"
[ ! -s "$QUEUECTL_HOME/err" ] || fail "progress in a pipe: $(cat "$QUEUECTL_HOME/err")"
state_is slow completed || fail "the running job did not finish: $(job_state slow)"
workers_are 0 || fail "workers still registered"

# bounded: a job that outlasts --wait-timeout makes it give up, exit 4 (on a
# terminal, with a line of progress while it waits)
start_workers_cli 1
wpid=${QC_PIDS[-1]}
qc enqueue --id long -- 'sleep 4' >/dev/null
wait_for 10 state_is long processing
t0=$(date +%s%N)
set +e
script -qefc "$QUEUECTL worker stop --wait-timeout=1s" /dev/null </dev/null >"$QUEUECTL_HOME/err" 2>&1
rc=$?; set -e
[ $rc = 4 ] || fail "worker stop past its timeout: rc=$rc $(cat "$QUEUECTL_HOME/err")"
grep_q "gave up waiting after 1s: 1 worker still running" "$QUEUECTL_HOME/err" || fail "message: $(cat "$QUEUECTL_HOME/err")"
grep_q "waiting for 1 worker to exit (1 job running)" "$QUEUECTL_HOME/err" || fail "no progress on a terminal: $(cat "$QUEUECTL_HOME/err")"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $ms -ge 900 ] && [ $ms -lt 3500 ] || fail "gave up after ${ms} ms, not about 1 s"
gone "$wpid" && fail "the worker exited before its job finished"
wait_for 15 gone "$wpid"
state_is long completed || fail "long: $(job_state long)"

# --no-wait: the old behaviour, returns while the worker finishes its job
start_workers_cli 1
wpid=${QC_PIDS[-1]}
qc enqueue --id nowait -- 'sleep 3' >/dev/null
wait_for 10 state_is nowait processing
qc worker stop --no-wait | grep_q "each finishes its running jobs first" || fail "--no-wait output"
gone "$wpid" && fail "--no-wait: the worker was gone already (it has a 3 s job)"
wait_for 15 gone "$wpid"

# broker stop waits for the broker to exit
bpid=$(cat "$QUEUECTL_HOME/broker.pid")
qc broker stop | grep_q "broker stopped (pid $bpid)" || fail "broker stop output"
gone "$bpid" || fail "broker $bpid still running after broker stop returned"
[ "$(qc broker stop)" = "no broker running" ] || fail "second broker stop"
note "ok"
