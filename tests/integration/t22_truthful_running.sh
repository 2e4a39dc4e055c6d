#!/usr/bin/env bash
# Issue 9.4: "processing", started_at and busy mean a shell is running, and a
# job that has not started never waits at a busy worker while another has a
# free slot.
. "$(dirname "$0")/lib.sh"
start_broker --liveness 1s --heartbeat 250ms
start_worker --name a
start_worker --name b
wait_for 10 workers_are 2

# L (long), S (short), then X and Y: X and Y go to whichever worker frees
# first (S's), never behind L.
qc enqueue --id L -- "sleep 6; echo L" >/dev/null
qc enqueue --id S -- "sleep 1; echo S" >/dev/null
qc enqueue --id X -- "echo x" >/dev/null
qc enqueue --id Y -- "echo y" >/dev/null
wait_for 10 state_is Y completed
[ "$(job_state L)" = processing ] || fail "L is $(job_state L): X and Y waited behind it"
ms() { qc show --json "$1" | json "j['$2']" | "$PY" -c "import sys,datetime; print(int(datetime.datetime.fromisoformat(sys.stdin.read().strip().replace('Z','+00:00')).timestamp()*1000))"; }
x_start=$(ms X started_at); s_end=$(ms S finished_at); l_start=$(ms L started_at)
[ $((x_start - s_end)) -ge -50 ] || fail "X started ${x_start} before S ended ${s_end}: it was not started when its shell started"
[ $((x_start - l_start)) -lt 3000 ] || fail "X started $((x_start - l_start)) ms after L"
[ "$(qc show --json X | json "j['worker_id']")" = "$(qc show --json S | json "j['worker_id']")" ] ||
    fail "X did not go to the worker that ran S"
wait_for 15 state_is L completed

# Eight 1 s jobs on two slots: never more than two processing, two busy.
for i in 1 2 3 4 5 6 7 8; do qc enqueue --id "e$i" -- "sleep 1" >/dev/null; done
max_proc=0; max_busy=0
for _ in $(seq 80); do
    read -r p b < <(qc status --json | json "'%d %d' % (j['counts']['processing'], j['busy'])")
    [ "$p" -gt "$max_proc" ] && max_proc=$p
    [ "$b" -gt "$max_busy" ] && max_busy=$b
    [ "$(qc status --json | json "j['counts']['completed']")" = 12 ] && break
    sleep 0.1
done
wait_for 15 count_is completed 12
[ "$max_proc" -le 2 ] && [ "$max_busy" -le 2 ] || fail "processing peaked at $max_proc, busy at $max_busy on 2 slots"
[ "$max_proc" = 2 ] || fail "processing never reached 2 (peak $max_proc): the check saw nothing"
# started_at is when the shell started: never before the job was claimed.
bad=$(qc list --json | json "[x['id'] for x in j if x.get('started_at') is None]")
[ "$bad" = "[]" ] || fail "completed jobs without started_at: $bad"
note "ok"
