# shellcheck shell=bash
# PostgreSQL 15 for the tests: a throw-away cluster in a temporary directory,
# its socket in that directory, TCP on a free loopback port, stopped by pid.
# initdb refuses root, so as root the cluster runs as the postgres user.
#   pg_start DIR [postgresql.conf lines...]   initdb + start; sets PG_DIR PG_PORT PG_PID
#   pg_stop DIR                               fast stop by pid (SIGINT), bounded
#   pg_uri DB                                 a URI for DB over the socket (trusted)
#   pg_sql DB SQL                             one query through psql, tuples only
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_ADMIN=qcadmin
PG_PASSWORD=${PG_PASSWORD:-s3cret-pw-$RANDOM$RANDOM}

pg_as() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_free_port() {
    local port
    for _ in $(seq 50); do
        port=$(( 20000 + RANDOM % 40000 ))
        ss -Hltn "sport = :$port" 2>/dev/null | grep -q . || { echo "$port"; return 0; }
    done
    return 1
}

# pg_start DIR [extra postgresql.conf lines]
pg_start() {
    local dir=$1; shift
    mkdir -p "$dir"
    chmod 0777 "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    printf '%s\n' "$PG_PASSWORD" >"$dir/pw"
    chmod 0644 "$dir/pw"
    pg_as "$PG_BIN/initdb" -D "$dir/data" -U "$PG_ADMIN" --pwfile="$dir/pw" -E UTF8 \
        --locale=C -N --auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; return 1; }
    PG_PORT=$(pg_free_port)
    {
        echo "listen_addresses = '127.0.0.1'"
        echo "port = $PG_PORT"
        echo "unix_socket_directories = '$dir'"
        echo "max_connections = 60"
        echo "shared_buffers = 32MB"
        echo "fsync = off"
        echo "full_page_writes = off"
        echo "log_min_messages = warning"
        printf '%s\n' "$@"
    } | pg_as tee -a "$dir/data/postgresql.conf" >/dev/null
    pg_as "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start >/dev/null ||
        { tail -20 "$dir/server.log" >&2; return 1; }
    PG_DIR=$dir
    PG_PID=$(head -1 "$dir/data/postmaster.pid")
    echo "PG_DIR=$dir PG_PORT=$PG_PORT PG_PID=$PG_PID" >"$dir/env"
}

# pg_stop DIR: SIGINT (fast shutdown) to the postmaster by pid, then SIGKILL
# after 10 s.
pg_stop() {
    local dir=$1 pid
    pid=$(head -1 "$dir/data/postmaster.pid" 2>/dev/null) || return 0
    kill -INT "$pid" 2>/dev/null || return 0
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
}

pg_env_load() { # pg_env_load DIR: PG_DIR PG_PORT PG_PID of a running cluster
    # shellcheck disable=SC1090
    eval "$(cat "$1/env")"
    PG_PASSWORD=$(cat "$1/pw")
}

pg_uri() { echo "postgresql:///$1?host=$PG_DIR&port=$PG_PORT&user=$PG_ADMIN"; }

pg_sql() {
    PGOPTIONS="-c client_min_messages=warning" \
    "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$PG_PORT" -U "$PG_ADMIN" \
        -d "$1" -c "$2"
}

# pg_createdb NAME: a fresh database for one test.
pg_createdb() {
    pg_sql postgres "DROP DATABASE IF EXISTS \"$1\"" >/dev/null
    pg_sql postgres "CREATE DATABASE \"$1\"" >/dev/null
}

# pg_snapshot_sqlite DB OUT: copies what the fault tests' verify reads (jobs,
# attempts) from DB into a new SQLite file OUT, so qcfault.py verify checks a
# PostgreSQL run exactly as it checks an SQLite one.
pg_snapshot_sqlite() {
    local db=$1 out=$2 tmp
    tmp=$(mktemp -d)
    pg_sql "$db" "COPY (SELECT seq, id, state, attempts, runs FROM jobs) TO STDOUT WITH CSV" >"$tmp/jobs.csv"
    pg_sql "$db" "COPY (SELECT job_seq, attempt, outcome, finished_at, error FROM attempts) TO STDOUT WITH CSV" >"$tmp/attempts.csv"
    rm -f "$out"
    sqlite3 "$out" <<SQL
CREATE TABLE jobs (seq INTEGER PRIMARY KEY, id TEXT, state INTEGER, attempts INTEGER, runs INTEGER);
CREATE TABLE attempts (job_seq INTEGER, attempt INTEGER, outcome INTEGER, finished_at INTEGER, error TEXT);
.mode csv
.import $tmp/jobs.csv jobs
.import $tmp/attempts.csv attempts
UPDATE attempts SET outcome = NULL WHERE outcome = '';
UPDATE attempts SET finished_at = NULL WHERE finished_at = '';
UPDATE attempts SET error = NULL WHERE error = '';
SQL
    rm -rf "$tmp"
}

# --- Two brokers on one database (the failover tests). Each has its own
# home (its own ipc endpoints and log); clients and workers get both.
# Needs the integration helpers (QC_PIDS, wait_for, fail).
fo_setup() {
    FO_A=$QUEUECTL_HOME/a FO_B=$QUEUECTL_HOME/b
    mkdir -m 0700 -p "$FO_A" "$FO_B"
    FO_CLIENT_EP="ipc://$FO_A/client.sock,ipc://$FO_B/client.sock"
    FO_WORKER_EP="ipc://$FO_A/worker.sock,ipc://$FO_B/worker.sock"
    export QUEUECTL_BROKER=$FO_CLIENT_EP
}

# fo_start a|b FLAGS...: starts that broker (active or passive); sets FO_PID_a/b.
fo_start() {
    local name=$1 home; shift
    home=$QUEUECTL_HOME/$name
    QUEUECTL_HOME=$home "$BROKER" --events-endpoint none "$@" >>"$QUEUECTL_HOME/broker_$name.log" 2>&1 &
    eval "FO_PID_$name=$!"
    QC_PIDS+=($!)
}

# fo_answers a|b: that broker answers a ping on its own endpoint.
fo_answers() { $QCF ping "ipc://$QUEUECTL_HOME/$1/client.sock"; }

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
