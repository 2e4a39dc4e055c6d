#!/usr/bin/env bash
# The database on a small tmpfs that fills up: enqueue is refused with a clear
# storage error (exit 1) and stores nothing, reads still work, the broker
# stays up, nothing committed is lost, and once space is freed enqueue works
# again by itself; then every committed job runs. Root only (mount); skips
# with 77 otherwise.
. "$(dirname "$0")/fault_lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: mounting a tmpfs needs root"; exit 77; }
command -v sqlite3 >/dev/null || fail "sqlite3 CLI missing"
# 8 MiB: the filler takes all of it; once it is removed, the WAL (never
# checkpointed at this size) needs room for the rest of the test's writes.
mnt=$(mktemp -d /tmp/qcfs.XXXXXX)
if ! mount -t tmpfs -o size=8m,mode=0700 tmpfs "$mnt" 2>"$QUEUECTL_HOME/mount.err"; then
    rmdir "$mnt"
    echo "SKIP: cannot mount a tmpfs here: $(cat "$QUEUECTL_HOME/mount.err")"
    exit 77
fi
# Our own clean-up first (the broker holds files on the tmpfs), then lib.sh's.
f_unmount() {
    local rc=$?
    if [ -n "${BROKER_PID:-}" ] && kill -0 "$BROKER_PID" 2>/dev/null; then
        kill -TERM "$BROKER_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$BROKER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$BROKER_PID" 2>/dev/null || true
    fi
    for p in "${QC_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
    rmdir "$mnt" 2>/dev/null || true
    return $rc
}
trap 'rc=$?; set +e; (exit $rc); f_unmount; f_keep; (exit $rc); qc_cleanup' EXIT
d=$QUEUECTL_HOME
db=$mnt/queue.db
FLAGS=(--db "$db" --liveness 1s --heartbeat 250ms)
start_broker "${FLAGS[@]}"
sqlq() { sqlite3 -readonly -batch "$db" "$1"; }
committed_jobs d 30

# Fill the file system to the last block.
dd if=/dev/zero of="$mnt/filler" bs=4k >/dev/null 2>&1 || true
note "$(elapsed): tmpfs full: $(df -k "$mnt" | awk 'NR==2 {print $3 "k used, " $4 "k free"}')"

# Enqueue 4 KiB jobs until one is refused: exit 1 with a storage message.
big=$(head -c 4000 /dev/zero | tr '\0' x)
refused=0
for i in $(seq 1 200); do
    rc=0
    qc enqueue --id "f-$i" -- "echo $big" >"$d/out" 2>"$d/err" || rc=$?
    case $rc in
    0) echo "f-$i" >>"$d/committed" ;;
    1) echo "f-$i" >>"$d/refused"
       refused=$((refused + 1))
       [ $refused = 1 ] && note "refused with exit 1: $(cat "$d/err")"
       grep_q -iE "storage|database|disk|full" "$d/err" || fail "unclear message: $(cat "$d/err")"
       [ $refused -ge 3 ] && break ;;
    *) fail "enqueue f-$i: exit $rc (expected 0 or 1): $(cat "$d/err")" ;;
    esac
done
[ $refused -ge 3 ] || fail "the full disk never refused an enqueue ($(wc -l <"$d/committed") stored)"
kill -0 "$BROKER_PID" || fail "the broker died on a full disk"
qc status >/dev/null || fail "status does not answer on a full disk"
[ "$(job_state d-1)" = pending ] || fail "show d-1 on a full disk"
# A worker joining now: its claims cannot be committed. The broker must cope
# without spinning: each failed commit RESETs every worker, and a worker that
# comes straight back must not turn that into a busy loop (measured over 1 s).
start_worker --name disk-full-worker --concurrency 2
failures() { grep -c "commit failed" "$d/broker.log" || true; }
before=$(failures)
# A claim's commit fails; the broker then checkpoints its write-ahead log
# before writing again and, while that fails too, serves reads only.
more_failures() { [ "$(failures)" -gt "$before" ] || grep_q "not writable" "$d/broker.log"; }
wait_for 10 more_failures
n0=$(failures); sleep 1; n1=$(failures)
note "$(elapsed): failed commits with a worker on the full disk: $((n1 - n0)) in 1 s"
[ $((n1 - n0)) -le 20 ] || soft "the broker spins on a full disk: $((n1 - n0)) failed commits (each logged, each RESETting every worker) in 1 s"
kill -0 "$BROKER_PID" || fail "the broker died with a worker on a full disk"
# Reads still work: each status is answered, with its counts or, when it
# shared a pass with a failed commit (its answer was read inside the
# rolled-back transaction, DESIGN "Failure handling"), with a storage error;
# between the failing passes reads get through.
answered=0
for i in 1 2 3 4 5; do
    if qc status >/dev/null 2>"$d/err"; then
        answered=$((answered + 1))
    else
        grep_q "could not commit" "$d/err" || soft "status with a worker on a full disk (try $i): $(cat "$d/err")"
    fi
done
[ $answered -ge 1 ] || soft "status never answered with its counts in 5 tries with a worker on a full disk"

# A client's retry that lands in the same pass as its first try: if the
# commit fails, a "duplicate" answer would say the job is stored when nothing
# is. Twenty times, the same enqueue twice back to back on one DEALER; a job
# answered "duplicate" must be in the database at the end.
"$PY" - "$CLIENT_EP" "$d/said_duplicate" <<'PY' || fail "the retry probe failed"
import json, sys, zmq
s = zmq.Context().socket(zmq.DEALER); s.setsockopt(zmq.LINGER, 0); s.connect(sys.argv[1])
big = "x" * 4000
said = []
for i in range(20):
    req = json.dumps({"op": "enqueue", "job": {"id": "retry-%d" % i, "command": "echo " + big}}).encode()
    s.send_multipart([b"", req]); s.send_multipart([b"", req])
    for _ in range(2):
        assert s.poll(10000), "no answer"
        r = json.loads(s.recv_multipart()[-1])
        if not r["ok"] and r["error"]["code"] == "duplicate":
            said.append("retry-%d" % i)
open(sys.argv[2], "w").write("".join(x + "\n" for x in said))
PY

# Free the space: the next enqueue works, without a restart.
rm -f "$mnt/filler"
note "$(elapsed): space freed"
enqueue_recovers "space was freed"
note "$(elapsed): enqueue works again (after $tries refusals); $(wc -l <"$d/committed") committed, $(wc -l <"$d/refused") refused"

storage_accounting sqlq 30
# Every "duplicate" answer named a stored job.
ghosts=$(sort -u "$d/said_duplicate" | comm -23 - <(sqlq "SELECT id FROM jobs ORDER BY id"))
[ -z "$ghosts" ] || fail "answered duplicate but not stored: $ghosts"
note "retry probe: $(wc -l <"$d/said_duplicate") duplicate answers, each for a stored job"
note "ok in $(elapsed)"
