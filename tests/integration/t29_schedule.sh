#!/usr/bin/env bash
# Recurring jobs (issue 12): schedule add/list/show/pause/resume/remove; a
# tick enqueues one job NAME@<tick>; ticks missed while no broker ran give
# one catch-up job (the latest tick), not a flood; the same tick fired again
# after a restart is still one job; --skip-if-running skips a tick while the
# last job runs; --tz uses tzdata; bad input refused, nothing changed.
# Missed and due ticks are made by moving next_run in the stopped broker's
# database, so the test never waits for the wall clock's minutes.
. "$(dirname "$0")/lib.sh"
start_broker
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
sched() { qc schedule show --json "$1" | json "$2"; }
jobs_of() { db_sql "SELECT count(*) FROM jobs WHERE id LIKE '$1@%'"; }

queue=q1
out=$(qc schedule add s1 --cron '*/5 * * * *' --queue $queue --env GREETING=hi -- 'echo "$GREETING"')
echo "$out" | grep_q "^schedule s1 added: next run " || fail "add output: $out"
# next run: the next multiple of 5 minutes
next=$(qc schedule show --json s1 | json "j['next_run']")
"$PY" - "$next" <<'PY' || fail "s1 next run $next"
import sys, datetime as d
t = d.datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00"))
now = d.datetime.now(d.timezone.utc)
assert t.minute % 5 == 0 and t.second == 0 and now < t <= now + d.timedelta(minutes=5), (t, now)
PY
# a zone with DST: 02:30 in Berlin is 01:30 or 00:30 UTC depending on the date
qc schedule add s3 --cron '30 2 * * *' --tz Europe/Berlin -- true >/dev/null
next=$(qc schedule show --json s3 | json "j['next_run']")
"$PY" - "$next" <<'PY' || fail "s3 next run $next"
import sys, datetime as d, zoneinfo
t = d.datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00")).astimezone(zoneinfo.ZoneInfo("Europe/Berlin"))
assert (t.hour, t.minute) == (2, 30), t
PY
qc schedule add s2 --cron '* * * * *' --skip-if-running -- 'sleep 30' >/dev/null
qc schedule list | grep_q "^s1  *\*/5 \* \* \* \*  *UTC " || fail "list: $(qc schedule list)"
[ "$(qc schedule list --json | json "[s['name'] for s in j]")" = '["s1", "s2", "s3"]' ] || fail "list --json"

# no broker for an hour: one catch-up job for s1, the latest missed tick; s2 due now
stop_broker
db_sql "UPDATE schedules SET next_run = next_run - 3600000 WHERE name = 's1'"
db_sql "UPDATE schedules SET next_run = $(( $(now_ms) / 60000 * 60000 )) WHERE name = 's2'"
start_broker
wait_for 10 eval '[ "$(jobs_of s1)" = 1 ]'
wait_for 10 eval '[ "$(jobs_of s2)" = 1 ]'
id=$(sched s1 "j['last_job']")
run_at=$(qc show --json "$id" | json "j['run_at']")
"$PY" - "$id" "$run_at" <<'PY' || fail "catch-up job $id at $run_at"
import sys, datetime as d
job, run_at = sys.argv[1], d.datetime.fromisoformat(sys.argv[2].replace("Z", "+00:00"))
now = d.datetime.now(d.timezone.utc)
assert run_at.minute % 5 == 0 and now - d.timedelta(minutes=5) < run_at <= now, (run_at, now)
assert job == "s1@" + run_at.strftime("%Y%m%dT%H%MZ"), job
PY
grep_q "schedule s1: ticks from .* were missed: one catch-up run" "$QUEUECTL_HOME/broker.log" || fail "catch-up not logged"
qc schedule pause s1 >/dev/null # (so the next 5-minute tick can't add a job during the test)
[ "$(qc show --json "$id" | json "(j.get('queue', 'default'), j['command'])")" = "('$queue', 'echo \"\$GREETING\"')" ] || fail "the job's options: $(qc show --json "$id" | json "(j.get('queue'), j['command'])")"
qc schedule show s1 | grep_q "^    $id " || fail "show lacks the recent run"
"$PY" -c "import sys,datetime as d; t=d.datetime.fromisoformat(sys.argv[1].replace('Z','+00:00')); assert t > d.datetime.now(d.timezone.utc)" \
    "$(sched s1 "j['next_run']")" || fail "s1 next run not in the future after the catch-up"

# the job runs, with its env
start_worker --queues q1,default --concurrency 2
wait_for 10 state_is "$id" completed
[ "$(job_field "$id" stdout_tail)" = "hi" ] || fail "env of a scheduled job"
s2job=$(sched s2 "j['last_job']")
wait_for 10 state_is "$s2job" processing

# s2's next tick while its job runs: skipped. s3 (daily) a day late: one
# catch-up job; then the same tick fired again after a restart (a
# failover's view): still that one job
stop_broker
db_sql "UPDATE schedules SET next_run = $(( $(now_ms) / 60000 * 60000 )) WHERE name = 's2'"
db_sql "UPDATE schedules SET next_run = next_run - 86400000 WHERE name = 's3'"
start_broker
s2_skipped() { [ "$(sched s2 "j['skipped'] >= 1")" = True ]; } # (a real minute may have passed too)
wait_for 10 s2_skipped
[ "$(jobs_of s2)" = 1 ] || fail "s2 ran while its job was running"
wait_for 10 eval '[ "$(jobs_of s3)" = 1 ]'
s3job=$(sched s3 "j['last_job']")
stop_broker
db_sql "UPDATE schedules SET next_run = last_tick WHERE name = 's3'"
start_broker
s3_moved_on() { [ "$(sched s3 "j['next_run'] > j['last_tick']")" = True ]; }
wait_for 10 s3_moved_on
[ "$(jobs_of s3)" = 1 ] || fail "the same tick made $(jobs_of s3) jobs"
[ "$(sched s3 "j['last_job']")" = "$s3job" ] || fail "s3's job changed"
[ "$(sched s3 "j['runs']")" = 1 ] || fail "s3 runs: $(sched s3 "j['runs']")"

# pause, resume, remove
qc schedule resume s1 >/dev/null
qc schedule pause s1 | grep_q "schedule s1 paused" || fail "pause"
[ "$(sched s1 "j['paused']")" = True ] || fail "not paused"
qc schedule list | grep_q "^s1 .* paused " || fail "list shows paused"
qc schedule resume s1 | grep_q "schedule s1 resumed: next run " || fail "resume"
qc schedule remove s1 | grep_q "schedule s1 removed" || fail "remove"
[ "$(qc schedule list --json | json "[s['name'] for s in j]")" = '["s2", "s3"]' ] || fail "after remove"
state_is "$id" completed || fail "removing a schedule removed its jobs"
qc cancel "$s2job" >/dev/null

# bad input: exit 2 naming it (1 when the broker refuses); nothing changed
# (what a refusal could change: not the ticks' jobs nor next runs, which a
# minute boundary during these checks moves on its own)
snapshot() {
    db_sql "SELECT count(*) FROM jobs WHERE id NOT LIKE '%@%' OR id LIKE 'x@%' OR id LIKE 'r1@%'"
    qc schedule list --json | json "sorted((s['name'], s.get('cron'), s.get('tz'), s.get('paused')) for s in j)"
}
before=$(snapshot)
check 2 'invalid --cron "61 * * * *": minute field "61" is invalid' schedule add x --cron '61 * * * *' -- true
check 2 'a cron expression has 5 fields' schedule add x --cron '* * *' -- true
check 2 'unknown "@sometimes"' schedule add x --cron @sometimes -- true
check 2 'invalid --tz "Mars/Olympus"' schedule add x --cron @daily --tz Mars/Olympus -- true
check 2 '--cron is required' schedule add x -- true
check 2 'what should it run?' schedule add x --cron @daily
check 2 'give a name' schedule add
check 2 'is not a valid schedule name' schedule add 'a b' --cron @daily -- true
check 2 'invalid --priority' schedule add x --cron @daily --priority urgent -- true
check 2 'unknown subcommand "edit"' schedule edit s2
check 2 'which schedule?' schedule show
check 1 'a schedule named "s2" exists' schedule add s2 --cron @daily -- true
check 1 'no schedule named "nosuch"' schedule show nosuch
check 1 'no schedule named "nosuch"' schedule pause nosuch
check 1 'no schedule named "nosuch"' schedule remove nosuch
raw_refused invalid_job "a schedule's job can't have \"after\"" '{"op":"schedule.add","name":"r1","cron":"@daily","job":{"command":"true","after":["x"]}}'
raw_refused invalid_job "a schedule's job can't have \"id\"" '{"op":"schedule.add","name":"r1","cron":"@daily","job":{"command":"true","id":"x"}}'
raw_refused bad_request 'tz must name a time zone' '{"op":"schedule.add","name":"r1","cron":"@daily","tz":"../etc/passwd","job":{"command":"true"}}'
raw_refused bad_request 'never fires' '{"op":"schedule.add","name":"r1","cron":"0 0 30 2 *","job":{"command":"true"}}'
[ "$(snapshot)" = "$before" ] || fail "refused input changed something"
note "ok"
