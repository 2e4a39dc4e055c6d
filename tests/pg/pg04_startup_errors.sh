#!/usr/bin/env bash
# Start-up errors on PostgreSQL, each with a message naming the problem and
# its own exit code, and never the password: the database server down (6), a
# wrong password (7), an unknown database (8), a URI that isn't one (9), no
# PostgreSQL module to load (3). Then
# a password given in the URI is masked in the log and in ps (argv), and one
# from PGPASSFILE works without appearing anywhere. And queuectl broker start
# --db URI starts a PostgreSQL broker whose ps shows no password.
. "$(dirname "$0")/../integration/lib.sh"
[ -n "${QC_PG_DIR:-}" ] || { echo "needs QC_PG_DIR (run through ctest -L pg)"; exit 77; }
unset QUEUECTL_DB
down_port=$(pg_free_port)
tcp="127.0.0.1:$PG_PORT"

expect() { # expect RC NEEDLE URI: the broker exits RC, says NEEDLE, never the password
    local want=$1 needle=$2 uri=$3 rc
    set +e; timeout 20 "$BROKER" --db "$uri" --events-endpoint none >"$QUEUECTL_HOME/out" 2>&1; rc=$?; set -e
    echo "# exit $rc: $(grep -m1 ERROR "$QUEUECTL_HOME/out" | cut -c26-220)"
    [ $rc = "$want" ] || fail "--db $uri: expected exit $want, got $rc: $(cat "$QUEUECTL_HOME/out")"
    grep_q -F -- "$needle" "$QUEUECTL_HOME/out" || fail "--db $uri: message lacks '$needle'"
    grep_none "the password was printed" -F -- "$PG_PASSWORD" "$QUEUECTL_HOME/out"
    grep_none "the wrong password was printed" -F -- "wrong-pw-42" "$QUEUECTL_HOME/out"
}
expect 6 "Connection refused" "postgresql://$PG_ADMIN:$PG_PASSWORD@127.0.0.1:$down_port/postgres"
expect 7 "password authentication failed" "postgresql://$PG_ADMIN:wrong-pw-42@$tcp/postgres"
expect 7 "password authentication failed" "postgres://$PG_ADMIN@$tcp/postgres?password=wrong-pw-42"
expect 8 "database \"no_such_db\" does not exist" "postgresql://$PG_ADMIN:$PG_PASSWORD@$tcp/no_such_db"
expect 9 "not a valid PostgreSQL connection URI" "postgresql://[::1/queuectl"
expect 9 "not a valid PostgreSQL connection URI" "postgresql://$PG_ADMIN@$tcp/postgres?colour=blue"
expect 9 "invalid integer value" "postgresql://$PG_ADMIN@127.0.0.1:notaport/postgres"
expect 9 "not a valid PostgreSQL connection URI" "postgresql://$PG_ADMIN:wrong-pw-42@[::1/queuectl"
# No PostgreSQL module (queuectl-pg.so, which the broker loads only for a
# postgresql:// database): said plainly, exit 3, no password. And a broker on
# SQLite maps no libpq at all.
QUEUECTL_PG_MODULE=/nonexistent/queuectl-pg.so expect 3 "PostgreSQL support is not available" \
    "postgresql://$PG_ADMIN:$PG_PASSWORD@$tcp/postgres"
! LC_ALL=C readelf -d "$BROKER" | grep -q 'libpq' || fail "queuectl-broker links libpq"
# QUEUECTL_DB when there is no --db
set +e; QUEUECTL_DB="postgresql://$PG_ADMIN:wrong-pw-42@$tcp/postgres" timeout 20 "$BROKER" \
    --events-endpoint none >"$QUEUECTL_HOME/out" 2>&1; rc=$?; set -e
[ $rc = 7 ] || fail "QUEUECTL_DB: expected exit 7, got $rc"
grep_none "the wrong password was printed" -F -- "wrong-pw-42" "$QUEUECTL_HOME/out"

# The right password in the URI: it runs, and neither its log nor ps shows it.
pg_createdb "$QC_PG_DB"
uri="postgresql://$PG_ADMIN:$PG_PASSWORD@$tcp/$QC_PG_DB"
start_broker --db "$uri"
qc enqueue --id p1 true >/dev/null
grep_none "password in the log" -F -- "$PG_PASSWORD" "$QUEUECTL_HOME/broker.log"
grep_q -F "postgresql://$PG_ADMIN:***@$tcp/$QC_PG_DB" "$QUEUECTL_HOME/broker.log" || fail "masked URI not logged"
# Read first, then look: a broker that is gone would otherwise pass.
tr '\0' ' ' </proc/"$BROKER_PID"/cmdline >"$QUEUECTL_HOME/cmdline" || fail "cannot read the broker's argv"
grep_q -F -- "--db" "$QUEUECTL_HOME/cmdline" || fail "not the broker's argv: $(cat "$QUEUECTL_HOME/cmdline")"
grep_none "password visible in ps" -F -- "$PG_PASSWORD" "$QUEUECTL_HOME/cmdline"
ps -o args= -p "$BROKER_PID" | sed 's/^/# ps: /'
stop_broker

# PGPASSFILE: no password in the URI at all.
printf '127.0.0.1:%s:*:%s:%s\n' "$PG_PORT" "$PG_ADMIN" "$PG_PASSWORD" >"$QUEUECTL_HOME/pgpass"
chmod 0600 "$QUEUECTL_HOME/pgpass"
PGPASSFILE=$QUEUECTL_HOME/pgpass start_broker --db "postgresql://$PG_ADMIN@$tcp/$QC_PG_DB"
[ "$(job_state p1)" = pending ] || fail "the job enqueued before is not there"
stop_broker

# queuectl broker start --db: the URI, password and all, reaches the broker in
# its environment (QUEUECTL_DB), never in its argv.
qc broker start --db "$uri" >"$QUEUECTL_HOME/out" 2>&1 || fail "broker start --db: $(cat "$QUEUECTL_HOME/out")"
BROKER_PID=$(cat "$QUEUECTL_HOME/broker.pid")
QC_PIDS+=("$BROKER_PID")
grep_none "password printed by broker start" -F -- "$PG_PASSWORD" "$QUEUECTL_HOME/out"
ps -o args= -p "$BROKER_PID" >"$QUEUECTL_HOME/ps" || fail "the started broker is not running"
grep_q -F queuectl-broker "$QUEUECTL_HOME/ps" || fail "not the broker: $(cat "$QUEUECTL_HOME/ps")"
grep_none "password visible in ps" -F -- "$PG_PASSWORD" "$QUEUECTL_HOME/ps"
grep_none "password in the broker's argv" -F -- "$PG_PASSWORD" /proc/"$BROKER_PID"/cmdline
sed 's/^/# ps: /' "$QUEUECTL_HOME/ps"
[ "$(job_state p1)" = pending ] || fail "broker start --db: not the PostgreSQL database (no job p1)"
grep_q -F "database postgresql://$PG_ADMIN:***@$tcp/$QC_PG_DB" "$QUEUECTL_HOME/broker.log" ||
    fail "broker start --db: the broker does not say it runs on PostgreSQL"
grep_none "password in the log" -F -- "$PG_PASSWORD" "$QUEUECTL_HOME/broker.log"
qc broker stop >/dev/null
check 2 "--db needs" broker start --db ""
note "ok"
