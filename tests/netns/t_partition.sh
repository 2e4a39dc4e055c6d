#!/usr/bin/env bash
# A remote worker cut off by a real network partition. The broker runs in
# network namespace A (worker endpoint tcp://10.201.0.1, CURVE on), the
# worker in namespace B, joined by a veth pair. Mid-job the link goes down
# for longer than the liveness window, then comes back. Expected: the broker
# declares the worker lost and fails its running jobs with worker_lost; the
# worker notices the silence, reconnects and registers again; the results it
# produced while cut off are acknowledged but ignored (stale); every job ends
# completed exactly once, with at most one record per attempt. A plain-text
# (no CURVE) worker in B never registers.
# Needs root (network namespaces); skips with 77 otherwise. Creates only its
# own namespaces and the veth pair inside them; deletes them on exit.
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: needs root to create network namespaces" >&2
    exit 77
fi
command -v ip >/dev/null 2>&1 || { echo "SKIP: ip (iproute2) not installed" >&2; exit 77; }
. "$(dirname "$0")/../integration/lib.sh"

NS_A="qcpartA$$"
NS_B="qcpartB$$"
NS_MADE=()
ADDR_A=10.201.0.1
ADDR_B=10.201.0.2
PORT=5556
WEP="tcp://$ADDR_A:$PORT"
d="$QUEUECTL_HOME"
k="$d/keys"

# Kills what we started (lib.sh's list), deletes our namespaces, then lets
# lib.sh's clean-up print logs on failure and remove QUEUECTL_HOME.
netns_cleanup() {
    local rc=$?
    local pid ns
    # A worker cut off mid-job waits for its job and ACKs: give everything 3 s
    # in all, then SIGKILL (the worker's guard kills its jobs' processes).
    for pid in "${QC_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for _ in $(seq 30); do
        local alive=0
        for pid in "${QC_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    for pid in "${QC_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    for ns in "${NS_MADE[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
    if [ $rc = 77 ]; then
        rm -rf "$QUEUECTL_HOME"
        exit 77
    fi
    set +e # errexit would end the trap at the (exit $rc) below
    (exit $rc)
    qc_cleanup
}
trap netns_cleanup EXIT

ip netns add "$NS_A" 2>"$d/netns.err" || { echo "SKIP: ip netns add failed: $(cat "$d/netns.err")" >&2; exit 77; }
NS_MADE+=("$NS_A")
ip netns add "$NS_B" 2>"$d/netns.err" || { echo "SKIP: ip netns add failed: $(cat "$d/netns.err")" >&2; exit 77; }
NS_MADE+=("$NS_B")
# The pair is created inside A (one end moved to B): nothing in the host's
# namespace is touched.
ip -n "$NS_A" link add vetha type veth peer name vethb netns "$NS_B" ||
    fail "cannot create the veth pair"
ip -n "$NS_A" addr add "$ADDR_A/30" dev vetha
ip -n "$NS_B" addr add "$ADDR_B/30" dev vethb
ip -n "$NS_A" link set vetha up
ip -n "$NS_B" link set vethb up
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
log_has() { grep_q -F -- "$2" "$1"; }
log_count() { grep -c -F -- "$2" "$1" || true; }

# Broker in A: workers over TCP with CURVE (no --insecure), clients on the
# default ipc socket in QUEUECTL_HOME (a filesystem socket: the CLI reaches
# it from the host namespace). `ip netns exec` execs, so the PID is the broker's.
ip netns exec "$NS_A" "$BROKER" --worker-endpoint "$WEP" --liveness 2s --heartbeat 500ms \
    >>"$d/broker.log" 2>&1 &
BROKER_PID=$!
QC_PIDS+=("$BROKER_PID")
wait_for 10 qc broker status
wait_for 10 test -s "$k/broker.cert"
qc keygen remote --role worker >/dev/null
cp "$k/remote.cert" "$d/authorized/workers/"

# A plain-text worker in B: the CURVE endpoint must refuse it.
ip netns exec "$NS_B" "$WORKER" --broker "$WEP" --insecure --name plain --log-level debug \
    >"$d/plain.log" 2>&1 &
PLAIN_PID=$!
QC_PIDS+=("$PLAIN_PID")

# The real worker in B, two slots.
ip netns exec "$NS_B" "$WORKER" --broker "$WEP" --curve-key "$k/remote.cert_secret" \
    --server-key "$k/broker.cert" --name remote --concurrency 2 --log-level debug \
    >"$d/remote.log" 2>&1 &
REMOTE_PID=$!
QC_PIDS+=("$REMOTE_PID")
wait_for 10 log_has "$d/remote.log" "registered with $WEP as remote"
wait_for 10 workers_are 1

# Six jobs. p1 runs until $d/release exists (at most 60 s), so it is still
# running when the worker comes back; p2..p6 take 2 s. Each appends
# "start ID" and "end ID" to a shared file.
runs="$d/runs"
: >"$runs"
jobs=(p1 p2 p3 p4 p5 p6)
qc enqueue --id p1 --max-retries 3 -- \
    "echo start p1 >> $runs; for i in \$(seq 600); do [ -e $d/release ] && break; sleep 0.1; done; echo end p1 >> $runs; echo done p1" >/dev/null
for id in "${jobs[@]:1}"; do
    qc enqueue --id "$id" --max-retries 3 -- \
        "echo start $id >> $runs; sleep 2; echo end $id >> $runs; echo done $id" >/dev/null
done
started() { [ "$(grep -c '^start ' "$runs")" -ge "$1" ]; }
wait_for 10 started 2
# 2 slots running p1 and p2; nothing else is held (no prefetch).
wait_for 5 count_is processing 2
cut_jobs="$(qc list --state processing --json | json "' '.join(sorted(x['id'] for x in j))") "
[ "$cut_jobs" = "p1 p2 " ] || fail "expected p1 and p2 running, got: $cut_jobs"

# The partition: vethb down (B loses its route, A its carrier).
cut_ms=$(now_ms)
ip -n "$NS_B" link set vethb down
note "link down; running at the cut: $cut_jobs"
wait_for 5 log_has "$d/broker.log" "worker remote lost"
wait_for 5 log_has "$d/remote.log" "broker silent, reconnecting"
# p2 ends while cut off: its result can only reach the broker late.
wait_for 5 grep_q -x "end p2" "$runs"
# Nothing new may start while cut off: the worker holds only what runs.
[ "$(grep -c '^start ' "$runs")" -le 2 ] || fail "a job the worker didn't hold started during the partition"
# Deliberate: keep the link down for 4.5 s in all (over twice the liveness).
rest=$(( 4500 - ($(now_ms) - cut_ms) ))
[ $rest -gt 0 ] && sleep "$(awk "BEGIN{print $rest/1000}")"
for id in $cut_jobs; do
    st=$(job_state "$id")
    [ "$st" = failed ] || [ "$st" = pending ] ||
        fail "job $id is $st during the partition, expected failed (waiting for its retry)"
done
ip -n "$NS_B" link set vethb up
note "link up after $(( $(now_ms) - cut_ms )) ms"

# The worker reconnects on its own and registers again, still running p1's
# first attempt: the broker, which already failed that attempt, cancels it.
wait_for 15 sh -c "[ \$(grep -c -F 'registered with $WEP as remote' '$d/remote.log') -ge 2 ]"
wait_for 5 sh -c "[ \$(grep -c -F 'worker remote registered' '$d/broker.log') -ge 2 ]"
wait_for 5 log_has "$d/remote.log" "job p1 attempt 1 ended"
touch "$d/release"
wait_for 20 count_is completed ${#jobs[@]}
# The canceled run of p1 keeps its slot until it has died and its RESULT is
# in; a JOB sent into that slot is refused by the worker and costs an attempt.
if grep_q "not started: no free slot" "$d/remote.log"; then
    grep -h "no free slot\|canceled\|adopted\|ignored\|registered" "$d/broker.log" "$d/remote.log" | sed 's/^/# /'
    fail "after the reconnect the broker sent JOBs for more slots than were free: it counted the" \
        "slot of the run it CANCELed on HELLO (p1 attempt 1, still dying) as free"
fi
note "all ${#jobs[@]} jobs completed $(( $(now_ms) - cut_ms )) ms after the cut"

# The database: each job completed once, attempts numbered without repeats,
# the cut jobs' first attempt worker_lost on remote, nothing else lost.
for id in "${jobs[@]}"; do
    qc show --json "$id" >"$d/$id.json"
done
"$PY" - "$d" "$cut_jobs" "${jobs[@]}" >"$d/db.check" <<'EOF' || fail "database check: $(cat "$d/db.check")"
import json, sys
d, cut, ids = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
bad = []
lost_total = 0
for i in ids:
    j = json.load(open(f"{d}/{i}.json"))
    log = j["attempts_log"]
    nums = [a["attempt"] for a in log]
    outcomes = [a["outcome"] for a in log]
    lost_total += outcomes.count("worker_lost")
    if j["state"] != "completed":
        bad.append(f"{i}: state {j['state']}")
    if len(nums) != len(set(nums)):
        bad.append(f"{i}: duplicate attempt numbers {nums}")
    if nums != list(range(1, len(nums) + 1)) or j["attempts"] != len(nums):
        bad.append(f"{i}: attempts {j['attempts']}, log {nums}")
    if outcomes.count("succeeded") != 1 or outcomes[-1] != "succeeded":
        bad.append(f"{i}: outcomes {outcomes}")
    if j["stdout_tail"].strip() != f"done {i}":
        bad.append(f"{i}: stdout {j['stdout_tail']!r}")
    if any(a["worker_id"] != "remote" for a in log):
        bad.append(f"{i}: ran on {[a['worker_id'] for a in log]}")
    if i in cut:
        if outcomes[:1] != ["worker_lost"] or len(log) != 2:
            bad.append(f"{i}: cut job, outcomes {outcomes}")
    elif outcomes != ["succeeded"]:
        bad.append(f"{i}: outcomes {outcomes}")
print(f"worker_lost attempts: {lost_total}")
if bad:
    print("\n".join(bad))
    sys.exit(1)
EOF
cat "$d/db.check" | sed 's/^/# /'

# The broker: the cut jobs' late results (attempt 1) were acknowledged and
# ignored, never recorded; nothing was recorded twice.
for id in $cut_jobs; do
    log_has "$d/broker.log" "job $id: attempt 1 worker_lost" || fail "no worker_lost for $id in the broker log"
    log_has "$d/broker.log" "job $id: result for attempt 1 from remote ignored" ||
        fail "the late result of $id attempt 1 was not reported ignored"
done
ignored=$(log_count "$d/broker.log" "from remote ignored")
for id in "${jobs[@]}"; do
    n=$(grep -c -E "job $id: attempt [0-9]+ succeeded" "$d/broker.log" || true)
    [ "$n" = 1 ] || fail "job $id: $n successes logged by the broker"
done
# The jobs' side effects: p2 (ended while cut off) ran twice to the end
# (allowed: at least once), p1's first run was killed by the CANCEL, the
# others ran once.
for id in "${jobs[@]}"; do
    s=$(grep -c -x "start $id" "$runs" || true)
    e=$(grep -c -x "end $id" "$runs" || true)
    case $id in
    p1) want="2 1" ;;
    p2) want="2 2" ;;
    *) want="1 1" ;;
    esac
    [ "$s $e" = "$want" ] || fail "job $id: started $s times, ended $e times, expected $want"
done
log_has "$d/remote.log" "job p1 attempt 1 canceled" || fail "p1 attempt 1 was not canceled on reconnect"

# The plain-text worker never registered.
wait_for 5 log_has "$d/plain.log" "handshake with $WEP failed"
grep_none "plain-text worker registered" -F -- "worker plain registered" "$d/broker.log"
grep_none "plain-text worker says it registered" -F -- "registered with" "$d/plain.log"
[ "$(qc worker list --json | json "[w['worker_id'] for w in j]")" = '["remote"]' ] ||
    fail "workers: $(qc worker list --json)"
note "stale results ignored: $ignored; reconnects: $(log_count "$d/remote.log" "broker silent, reconnecting")"
note "ok"
