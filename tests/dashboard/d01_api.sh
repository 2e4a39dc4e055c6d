#!/usr/bin/env bash
# The REST API, /metrics, SSE, the token and CSRF checks against a real broker,
# two workers and two dashboards (one with --token-file); then flag errors,
# a broker that stops answering, and a clean stop on SIGTERM. As d01_api_pg
# (QC_PG_DIR set) the broker runs on PostgreSQL.
. "$(dirname "$0")/lib.sh"

start_broker
if [ -n "${QC_PG_DB:-}" ]; then # d01_api_pg: the same API over a PostgreSQL store
    grep_q -F "database postgresql://" "$QUEUECTL_HOME/broker.log" || fail "the broker is not on PostgreSQL"
    note "broker on PostgreSQL database $QC_PG_DB"
fi
start_worker --concurrency 2
start_worker --concurrency 2
wait_for 10 workers_are 2

start_dashboard plain
PLAIN_URL=$DASH_URL PLAIN_PID=$DASH_PID
TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$TOKEN" >"$QUEUECTL_HOME/token"
chmod 600 "$QUEUECTL_HOME/token"
start_dashboard token --token-file "$QUEUECTL_HOME/token"
TOKEN_PID=$DASH_PID TOKEN_DASH_URL=$DASH_URL

DASH_URL=$PLAIN_URL TOKEN_URL=$TOKEN_DASH_URL TOKEN=$TOKEN "$PY" "$QC_SOURCE/tests/dashboard/api_test.py"
curl -sf "${PLAIN_URL}metrics" >"$QUEUECTL_HOME/metrics.txt" # set -e: a failed curl fails the test
grep_q -x "queuectl_broker_up 1" "$QUEUECTL_HOME/metrics.txt" || fail "/metrics: broker not up"
if [ -n "${QC_PG_DB:-}" ]; then # what the database server costs, on PostgreSQL only
    grep_q -E "^queuectl_store_round_trips_total [1-9][0-9]*$" "$QUEUECTL_HOME/metrics.txt" ||
        fail "/metrics lacks queuectl_store_round_trips_total"
    grep_q -E "^queuectl_store_transactions_total [1-9][0-9]*$" "$QUEUECTL_HOME/metrics.txt" ||
        fail "/metrics lacks queuectl_store_transactions_total"
    note "$(grep -E '^queuectl_store_(round_trips|transactions)_total ' "$QUEUECTL_HOME/metrics.txt" | tr '\n' ' ')"
else
    grep_none "round trips on SQLite" queuectl_store_ "$QUEUECTL_HOME/metrics.txt"
fi

# Flag errors exit 2 and name the flag.
expect_usage() {
    local flag=$1; shift
    local rc=0 err
    err=$("$QUEUECTL" dashboard "$@" 2>&1 >/dev/null) || rc=$?
    [ "$rc" = 2 ] || fail "dashboard $* exited $rc, not 2"
    echo "$err" | grep_q -e "$flag" || fail "dashboard $*: the message does not name $flag: $err"
    note "dashboard $*: exit 2: $err"
}
expect_usage --listen --listen nonsense
expect_usage --listen --listen 127.0.0.1:99999
expect_usage --listen --listen 0.0.0.0:0
expect_usage --token-file --listen 127.0.0.1:0 --token-file "$QUEUECTL_HOME/missing"
printf 'short\n' >"$QUEUECTL_HOME/short"
expect_usage --token-file --listen 127.0.0.1:0 --token-file "$QUEUECTL_HOME/short"
expect_usage --frobnicate --frobnicate
expect_usage --listen --listen
expect_usage --web-dir --web-dir "$QUEUECTL_HOME/nowhere"
"$QUEUECTL" dashboard --help | grep_q -e --token-file || fail "--help does not list --token-file"
"$QC_BIN/queuectl-dashboard" --help | grep_q -e --broker-insecure || fail "queuectl-dashboard --help is incomplete"
"$QC_BIN/queuectl-dashboard" --version | grep_q -e "^queuectl-dashboard " || fail "no --version"

# The CLI runs queuectl-dashboard (exec: same pid) and passes its global
# flags on; only the dashboard links libmicrohttpd.
if command -v readelf >/dev/null; then
    cli_needs=$(readelf -d "$QUEUECTL")  # set -e: a readelf failure fails the test
    dash_needs=$(readelf -d "$QC_BIN/queuectl-dashboard")
    echo "$dash_needs" | grep_q libmicrohttpd || fail "queuectl-dashboard does not link libmicrohttpd"
    echo "$cli_needs" | grep_q NEEDED || fail "readelf shows no NEEDED entries for queuectl"
    ! echo "$cli_needs" | grep_q libmicrohttpd || fail "queuectl links libmicrohttpd"
fi
"$QUEUECTL" --broker "ipc://$QUEUECTL_HOME/elsewhere.sock" --timeout 300ms dashboard --listen 127.0.0.1:0 \
    >"$QUEUECTL_HOME/globals.out" 2>"$QUEUECTL_HOME/globals.log" &
GLOBALS_PID=$!
QC_PIDS+=("$GLOBALS_PID")
wait_for 10 grep_q -e "broker ipc://$QUEUECTL_HOME/elsewhere.sock" "$QUEUECTL_HOME/globals.out"
grep_q -e "queuectl-dashboard" "/proc/$GLOBALS_PID/cmdline" || fail "queuectl dashboard did not exec queuectl-dashboard"
port=$(grep -o 'http://[^ ]*/' "$QUEUECTL_HOME/globals.out" | head -n 1)
begin=$(date +%s%N)
code=$(curl -s -o /dev/null -w '%{http_code}' "${port}api/status")
took=$(( ($(date +%s%N) - begin) / 1000000 ))
[ "$code" = 503 ] && [ "$took" -lt 1500 ] || fail "global --broker/--timeout not passed on: $code after $took ms"
stop_dashboard "$GLOBALS_PID"
note "queuectl --broker --timeout dashboard: exec'd queuectl-dashboard with them (503 after $took ms)"

# A non-loopback address is served with a token (or --insecure, loudly).
start_dashboard wide --listen 0.0.0.0:0 --token-file "$QUEUECTL_HOME/token"
port=${DASH_URL##*:}; port=${port%/}
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/status")
[ "$code" = 401 ] || fail "0.0.0.0 with a token answered $code without it"
stop_dashboard "$DASH_PID"
start_dashboard insecure --listen 0.0.0.0:0 --insecure
grep_q -e "WARNING" "$QUEUECTL_HOME/insecure.log" || fail "--insecure gave no warning"
stop_dashboard "$DASH_PID"

# The broker stops answering: the API says 503, /metrics says up 0.
stop_broker
code=$(curl -s -o /dev/null -w '%{http_code}' "${PLAIN_URL}api/status")
[ "$code" = 503 ] || fail "no broker: /api/status answered $code, not 503"
curl -s "${PLAIN_URL}metrics" | grep_q -x "queuectl_broker_up 0" || fail "no broker: metrics up is not 0"
note "no broker: 503 and queuectl_broker_up 0"

# SIGTERM with an event stream open still stops it at once.
curl -sN "${PLAIN_URL}api/events" >"$QUEUECTL_HOME/stream.out" &
QC_PIDS+=($!)
wait_for 5 grep_q -e "event: hello" "$QUEUECTL_HOME/stream.out"
stop_dashboard "$PLAIN_PID"
stop_dashboard "$TOKEN_PID"
note "ok"
