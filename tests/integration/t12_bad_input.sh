#!/usr/bin/env bash
# Bad input: each malformed job or flag is refused with a clear message and
# its exit code, and the database is unchanged.
. "$(dirname "$0")/lib.sh"
start_broker
qc enqueue --id keep -- 'echo keep' >/dev/null
qc config set max-retries 4 >/dev/null
snapshot() { qc list --json --limit 1000; qc config get --json; }
before=$(snapshot)
checksum=$(db_sql 'SELECT group_concat(id||state||command||attempts) FROM jobs' 'SELECT string_agg(id||state||command||attempts, '"','"' ORDER BY seq) FROM jobs')

check 2 "invalid job JSON" enqueue '{"command": "x"'
check 2 "command is missing" enqueue '{"id":"x1"}'
check 2 "command is empty" enqueue '{"command":""}'
check 2 "command must be a string" enqueue '{"command":["ls"]}'
check 2 "max_retries must be" enqueue '{"command":"x","max_retries":-2}'
check 2 "max_retries must be an integer" enqueue '{"command":"x","max_retries":"three"}'
check 2 "id \"has space\" is invalid" enqueue '{"command":"x","id":"has space"}'
check 2 "id" enqueue --id 'semi;colon' true
check 2 "unknown field \"comand\"" enqueue '{"comand":"x"}'
check 2 "priority must be" enqueue '{"command":"x","priority":"urgent"}'
check 2 "timeout_s must be" enqueue '{"command":"x","timeout_s":-5}'
check 2 "run_at must be" enqueue '{"command":"x","run_at":"next tuesday"}'
check 2 "trailing data" enqueue '{"command":"x"} trailing'
check 2 "invalid --max-retries" enqueue --max-retries -1 true
check 2 "invalid --max-retries" enqueue --max-retries 1x true
check 2 "invalid --priority" enqueue --priority urgent true
check 2 "invalid --delay" enqueue --delay soon true
check 2 "invalid --timeout" enqueue --timeout 0 true
check 2 "invalid --run-at" enqueue --run-at yesterday true
check 2 "needs a value" enqueue --id
check 2 "nothing to enqueue" enqueue
check 2 "cannot read" enqueue /nonexistent/job.json
check 2 "unknown option" enqueue --frobnicate true
check 2 "not both" enqueue '{"command":"x"}' extra words
check 1 "already exists" enqueue --id keep true
check 2 "did you mean \"status\"" stauts
check 2 "unknown command" frobnicate
check 2 "--state must be" list --state running
check 2 "--limit must be" list --limit 0
check 2 "which job" show
check 2 "not a valid job id" show 'bad id'
check 1 "no job with id" show nosuch
check 2 "unknown config key" config set colour blue
check 2 "invalid value" config set max-retries -3
check 2 "needs KEY and VALUE" config set max-retries
check 2 "unknown subcommand" dlq purge-everything
check 2 "--count must be" worker start --count 0
check 2 "unknown option" status --verbose
check 2 "invalid --timeout" --timeout forever status
[ "$(snapshot)" = "$before" ] || fail "database changed"
[ "$(db_sql 'SELECT group_concat(id||state||command||attempts) FROM jobs' 'SELECT string_agg(id||state||command||attempts, '"','"' ORDER BY seq) FROM jobs')" = "$checksum" ] || fail "rows changed"
# a command that is too long is refused by the CLI and by the broker
long=$(head -c 70000 /dev/zero | tr '\0' 'a')
check 2 "longer than the limit" enqueue "echo $long"
# no broker answering: exit 3 within a few seconds, naming the endpoint
t0=$(date +%s)
set +e; qc --broker ipc://"$QUEUECTL_HOME"/nobody.sock status 2>"$QUEUECTL_HOME/err"; rc=$?; set -e
[ $rc = 3 ] || fail "no broker: rc=$rc"
grep -q "nobody.sock" "$QUEUECTL_HOME/err" || fail "endpoint not named"
[ $(( $(date +%s) - t0 )) -le 4 ] || fail "took too long"
# bad broker flags
set +e; "$BROKER" --liveness banana 2>"$QUEUECTL_HOME/err"; rc=$?; set -e
[ $rc = 2 ] && grep -q "invalid --liveness" "$QUEUECTL_HOME/err" || fail "broker flag: rc=$rc"
set +e; "$BROKER" --synchronous sometimes 2>"$QUEUECTL_HOME/err"; rc=$?; set -e
[ $rc = 2 ] && grep_q "invalid --synchronous" "$QUEUECTL_HOME/err" || fail "broker --synchronous: rc=$rc"
if [ -z "${QC_PG_DB:-}" ]; then # on PostgreSQL a second broker waits (t05, pg03)
    set +e; "$BROKER" 2>"$QUEUECTL_HOME/err"; rc=$?; set -e
    [ $rc = 4 ] && grep_q "another broker" "$QUEUECTL_HOME/err" || fail "second broker: rc=$rc"
fi
set +e; "$WORKER" --concurrency 0 2>"$QUEUECTL_HOME/err"; rc=$?; set -e
[ $rc = 2 ] || fail "worker --concurrency 0: rc=$rc"
note "ok"
