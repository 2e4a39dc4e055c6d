#!/usr/bin/env bash
# Issue 9.6: a QUEUECTL_HOME that other users can reach, or that another user
# owns, is refused with a message saying how to fix it; the broker creates
# its files 0600 whatever the umask.
. "$(dirname "$0")/lib.sh"
[ -z "${QC_PG_DIR:-}" ] || { echo "SKIP on PostgreSQL: it checks the SQLite files the broker creates"; exit 77; }
open_home=$(mktemp -d /tmp/qco.XXXXXX)
chmod 755 "$open_home"
set +e
QUEUECTL_HOME=$open_home "$BROKER" 2>"$QUEUECTL_HOME/err"; rc=$?
set -e
rm -rf "$open_home"
[ $rc -ne 0 ] || fail "the broker ran in a mode-755 home"
grep_q -F "can be reached by other users (mode 755)" "$QUEUECTL_HOME/err" || fail "message: $(cat "$QUEUECTL_HOME/err")"
grep_q -F "chmod 700" "$QUEUECTL_HOME/err" || fail "no fix given: $(cat "$QUEUECTL_HOME/err")"
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
    other=$(mktemp -d /tmp/qco.XXXXXX)
    chown nobody "$other"
    set +e
    QUEUECTL_HOME=$other "$BROKER" 2>"$QUEUECTL_HOME/err"; rc=$?
    set -e
    rm -rf "$other"
    [ $rc -ne 0 ] || fail "the broker ran in a home owned by nobody"
    grep_q -F "not to you" "$QUEUECTL_HOME/err" || fail "message: $(cat "$QUEUECTL_HOME/err")"
fi
# A private home with a permissive umask: every file the broker makes is 0600.
(umask 022; "$BROKER" >>"$QUEUECTL_HOME/broker.log" 2>&1 & echo $! >"$QUEUECTL_HOME/bpid")
BROKER_PID=$(cat "$QUEUECTL_HOME/bpid"); QC_PIDS+=("$BROKER_PID")
wait_for 10 qc broker status
qc enqueue -- "echo secret" >/dev/null
for f in queue.db queue.db-wal queue.db-shm queue.db.lock; do
    [ -e "$QUEUECTL_HOME/$f" ] || continue
    mode=$(stat -c %a "$QUEUECTL_HOME/$f")
    [ "$mode" = 600 ] || fail "$f is mode $mode"
done
[ "$(stat -c %a "$QUEUECTL_HOME/queue.db")" = 600 ] || fail "queue.db missing"
note "ok"
