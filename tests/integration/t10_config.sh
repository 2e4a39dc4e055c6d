#!/usr/bin/env bash
# config set/get round trip (kebab and snake case), refusals, and the effect on new jobs.
. "$(dirname "$0")/lib.sh"
start_broker
[ "$(qc config get --json | json "j")" = '{"max_retries": 3, "backoff_base": 2, "backoff_max": 300, "job_timeout": 300, "retention": 0, "retry_on_exit": "", "no_retry_on_exit": ""}' ] || fail "defaults: $(qc config get --json | json j)"
qc config set max-retries 5 >/dev/null
qc config:set backoff_max 2m >/dev/null
qc config set job_timeout 45 >/dev/null
[ "$(qc config get max_retries --json | json "j['max_retries']")" = 5 ] || fail "max_retries"
[ "$(qc config:get backoff-max --json | json "j['backoff_max']")" = 120 ] || fail "backoff_max"
qc config get all | grep_q "^job-timeout *45$" || fail "config get all"
before=$(qc config get --json)
for bad in "max-retries -1" "max-retries lots" "backoff-base 0" "job-timeout 0" "colour blue" "backoff-max 1.5s"; do
    set +e; qc config set $bad 2>"$QUEUECTL_HOME/err"; rc=$?; set -e
    [ $rc = 2 ] || fail "config set $bad: rc=$rc"
    grep -Eq "unknown config key|invalid value" "$QUEUECTL_HOME/err" || fail "config set $bad: $(cat "$QUEUECTL_HOME/err")"
done
[ "$(qc config get --json)" = "$before" ] || fail "a refused value changed the config"
# settings survive a restart
stop_broker; start_broker
[ "$(qc config get max-retries --json | json "j['max_retries']")" = 5 ] || fail "not persisted"
# effect on new jobs: defaults come from config at enqueue time
qc config set max-retries 0 >/dev/null
qc config set job-timeout 1 >/dev/null
qc enqueue --id once 'exit 3' >/dev/null
qc enqueue --id slowpoke 'sleep 30' >/dev/null
[ "$(job_field once max_retries)" = 0 ] || fail "max_retries default not applied"
[ "$(job_field slowpoke timeout_s)" = 1 ] || fail "timeout default not applied"
start_worker --concurrency 2
wait_for 15 state_is once dead
wait_for 15 state_is slowpoke dead
[ "$(job_field once attempts)" = 1 ] || fail "retried despite max-retries 0"
qc show --json slowpoke | json "j['attempts_log'][0]['outcome']" | grep_q -x timed_out || fail "timeout default"
note "ok"
