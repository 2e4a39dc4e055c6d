#!/usr/bin/env bash
# Priority order (FIFO within a priority), and a delayed job that does not
# start before its time.
. "$(dirname "$0")/lib.sh"
start_broker
out="$QUEUECTL_HOME/order.txt"
qc enqueue --id low1 --priority low -- "echo low1 >> $out" >/dev/null
qc enqueue --id med1 -- "echo med1 >> $out" >/dev/null
qc enqueue --id high1 --priority high -- "echo high1 >> $out" >/dev/null
qc enqueue --id med2 --priority medium -- "echo med2 >> $out" >/dev/null
qc enqueue --id high2 '{"command":"echo high2 >> '"$out"'"}' --priority high >/dev/null
qc enqueue --id p50 --priority 50 -- "echo p50 >> $out" >/dev/null
start_worker
wait_for 15 count_is completed 6
[ "$(tr '\n' ' ' <"$out")" = "p50 high1 high2 med1 med2 low1 " ] || fail "order: $(tr '\n' ' ' <"$out")"

qc enqueue --id later --delay 2s true >/dev/null
qc enqueue --id soon true >/dev/null
wait_for 10 state_is soon completed
state_is later pending || fail "delayed job ran early"
wait_for 10 state_is later completed
qc show --json later | json "(__import__('datetime').datetime.fromisoformat(j['started_at'][:-1]) - __import__('datetime').datetime.fromisoformat(j['created_at'][:-1])).total_seconds()" >"$QUEUECTL_HOME/gap"
"$PY" -c "import sys; g=float(open(sys.argv[1]).read()); print('# delayed start after', g, 's'); assert 1.95 <= g <= 3.0, g" "$QUEUECTL_HOME/gap"

# --run-at with an ISO time
at=$(date -u -d '+2 seconds' +%Y-%m-%dT%H:%M:%SZ)
qc enqueue --id at --run-at "$at" true >/dev/null
[ "$(job_field at run_at | cut -c1-19)" = "${at%Z}" ] || fail "run_at not stored: $(job_field at run_at) vs $at"
wait_for 10 state_is at completed
note "ok"
