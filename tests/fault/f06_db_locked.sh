#!/usr/bin/env bash
# Another process holds the database's write lock (BEGIN EXCLUSIVE): enqueue
# is refused with a clear storage error (exit 1) and stores nothing, reads
# (status, show) still answer, the broker stays up and says so once in its
# log, a result that arrives meanwhile is not lost, and when the lock is
# released everything works again by itself.
. "$(dirname "$0")/fault_lib.sh"
command -v sqlite3 >/dev/null || fail "sqlite3 CLI missing"
d=$QUEUECTL_HOME

start_broker --liveness 1s --heartbeat 250ms
start_worker --name w1 --concurrency 2
wait_for 10 workers_are 1
committed_jobs l 10
wait_for 10 count_is completed 10
# A job that ends while the database is locked: its result must survive.
qc enqueue --id slow -- "i=0; while [ ! -e $d/go ] && [ \$i -lt 600 ]; do sleep 0.05; i=\$((i+1)); done; echo slow done" >/dev/null
echo slow >>"$d/committed"
wait_for 10 state_is slow processing

"$PY" - "$d/queue.db" "$d" <<'PY' &
import os, sqlite3, sys, time
db, d = sys.argv[1], sys.argv[2]
c = sqlite3.connect(db, isolation_level=None, timeout=5)
c.execute("BEGIN EXCLUSIVE")
open(os.path.join(d, "locked"), "w").close()
deadline = time.monotonic() + 30
while not os.path.exists(os.path.join(d, "unlock")) and time.monotonic() < deadline:
    time.sleep(0.02)
c.execute("ROLLBACK")
c.close()
PY
locker=$!
QC_PIDS+=("$locker")
wait_for 10 test -e "$d/locked"
note "$(elapsed): database locked by pid $locker"
touch "$d/go" # the slow job finishes now; the broker cannot record it yet

for i in 1 2 3; do
    rc=0
    qc enqueue --id "x-$i" -- "echo x-$i" >/dev/null 2>"$d/err" || rc=$?
    if [ $rc = 0 ]; then
        soft "enqueue x-$i succeeded while another process held the write lock"
        echo "x-$i" >>"$d/committed"
        continue
    fi
    echo "x-$i" >>"$d/refused"
    [ $rc = 1 ] || soft "enqueue x-$i while locked: exit $rc, expected 1: $(cat "$d/err")"
    grep_q -iE "storage|database|locked" "$d/err" || soft "unclear message: $(cat "$d/err")"
    [ $i = 1 ] && note "refused: $(cat "$d/err")"
done
for i in 1 2 3 4 5; do
    qc status >/dev/null 2>"$d/err" || soft "status while locked (try $i): $(cat "$d/err")"
done
[ "$(job_state l-1)" = completed ] || soft "show l-1 while locked"
kill -0 "$BROKER_PID" || fail "the broker died"
n=$(grep -c "not writable" "$d/broker.log" || true)
[ "$n" -ge 1 ] || soft "the broker did not log that the database is not writable"
[ "$n" -le 2 ] || soft "the broker logged \"not writable\" $n times (one line per state change expected)"

touch "$d/unlock"
reap "$locker" || fail "the locker failed"
note "$(elapsed): lock released"
enqueue_recovers "the lock was released"
grep_q "writable again" "$d/broker.log" || soft "the broker did not log that the database is writable again"
# The worker resends a result that got no ACK (PROTOCOL.md 3.5: after
# liveness_ms, here 1 s), so the slow job completes once, without a rerun.
slow_done() { state_is slow completed; }
deadline=$(( $(date +%s) + 10 ))
until slow_done 2>/dev/null || [ "$(date +%s)" -ge $deadline ]; do sleep 0.05; done
if slow_done; then
    [ "$(job_field slow stdout_tail)" = "slow done" ] || soft "slow job output"
    [ "$(job_field slow attempts)" = 1 ] || soft "the slow job ran again: its result was lost during the lock"
else
    soft "the result of the job that ended during the lock was never recorded: job slow is still $(job_state slow) 10 s after the lock was released, its worker alive"
    grep -v -x slow "$d/committed" >"$d/committed.tmp" && mv "$d/committed.tmp" "$d/committed"
fi
note "$(grep -c "BEGIN IMMEDIATE: database is locked" "$d/broker.log") \"BEGIN IMMEDIATE: database is locked\" errors logged during the lock"
storage_accounting sql 15
note "ok in $(elapsed)"
