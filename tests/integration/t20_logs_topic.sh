#!/usr/bin/env bash
# logs -f build follows job "build" only, not "build-2" (ZeroMQ subscriptions
# are prefixes: output.build also matches output.build-2).
. "$(dirname "$0")/lib.sh"
start_broker
qc enqueue --id build-2 -- 'for i in $(seq 16); do echo from-build-2; sleep 0.25; done' >/dev/null
qc enqueue --id build -- 'sleep 2; echo from-build; sleep 0.5' >/dev/null
start_worker --concurrency 2
wait_for 10 state_is build processing
wait_for 10 state_is build-2 processing
qc logs -f build >"$QUEUECTL_HOME/follow" 2>&1 &
follow=$!; QC_PIDS+=("$follow")
wait_for 20 state_is build completed
wait "$follow" || fail "logs -f exited with $?"
grep_q -x from-build "$QUEUECTL_HOME/follow" || fail "logs -f build missed its output: $(cat "$QUEUECTL_HOME/follow")"
grep_none "logs -f build showed build-2's output" from-build-2 "$QUEUECTL_HOME/follow"
# build-2 was running and printing all along: logs -f build-2 shows it
state_is build-2 processing || fail "build-2 ended early: $(job_state build-2)"
qc logs -f build-2 >"$QUEUECTL_HOME/follow2"
grep_q -x from-build-2 "$QUEUECTL_HOME/follow2" || fail "logs -f build-2"
note "ok"
