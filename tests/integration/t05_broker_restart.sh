#!/usr/bin/env bash
# Jobs survive a broker restart (SIGTERM and SIGKILL) and then run.
. "$(dirname "$0")/lib.sh"
start_broker
for i in 1 2 3; do qc enqueue --id "a$i" true >/dev/null; done
stop_broker
start_broker
for i in 4 5 6; do qc enqueue --id "a$i" true >/dev/null; done
kill9_broker
start_broker
[ "$(qc status --json | json "j['counts']['pending']")" = 6 ] || fail "pending jobs lost"
sqlite3 "$QUEUECTL_HOME/queue.db" 'PRAGMA integrity_check' | grep_q -x ok || fail "integrity"
start_worker
wait_for 15 count_is completed 6
# a second broker on the same database is refused with its own exit code
set +e; "$BROKER" >"$QUEUECTL_HOME/second.out" 2>&1; rc=$?; set -e
[ $rc = 4 ] || fail "second broker: expected exit 4, got $rc"
grep -q "another broker" "$QUEUECTL_HOME/second.out" || fail "second broker message"
note "ok"
