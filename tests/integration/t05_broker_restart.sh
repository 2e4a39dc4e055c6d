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
db_sql 'PRAGMA integrity_check' "SELECT 'ok'" | grep_q -x ok || fail "integrity"
start_worker
wait_for 15 count_is completed 6
if [ -n "${QC_PG_DB:-}" ]; then
    # PostgreSQL: a second broker on the same database waits, passive, binding nothing
    set +e; timeout 2 "$BROKER" >"$QUEUECTL_HOME/second.out" 2>&1; rc=$?; set -e
    [ $rc = 124 ] || fail "second broker: expected it to wait, got exit $rc"
    grep -q "passive: another broker is active" "$QUEUECTL_HOME/second.out" || fail "second broker message"
    qc status >/dev/null || fail "the active broker stopped answering"
else
    # a second broker on the same database is refused with its own exit code
    set +e; "$BROKER" >"$QUEUECTL_HOME/second.out" 2>&1; rc=$?; set -e
    [ $rc = 4 ] || fail "second broker: expected exit 4, got $rc"
    grep -q "another broker" "$QUEUECTL_HOME/second.out" || fail "second broker message"
fi
note "ok"
