#!/usr/bin/env bash
# One PostgreSQL for the whole "pg" group (a ctest fixture):
#   server.sh start DIR   initdb + start, DIR/env records how to reach it
#   server.sh stop DIR    stop it by pid and delete DIR
set -euo pipefail
. "$(dirname "$0")/lib.sh"
case ${1:-} in
start)
    pg_stop "$2" 2>/dev/null || true
    rm -rf "$2"
    pg_start "$2"
    echo "PostgreSQL on port $PG_PORT, socket in $2 (pid $PG_PID)" ;;
stop)
    pg_stop "$2"
    rm -rf "$2" ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
