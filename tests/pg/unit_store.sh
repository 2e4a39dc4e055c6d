#!/usr/bin/env bash
# The store's unit test (tests/unit/test_store.c) on a fresh PostgreSQL database.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
pg_env_load "$QC_PG_DIR"
db=unit_store_$$
pg_createdb "$db"
rc=0
QC_TEST_DB=$(pg_uri "$db") QUEUECTL_PG_MODULE=$QC_BIN/queuectl-pg.so "$QC_BIN/tests/test_store" || rc=$?
pg_sql postgres "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
exit $rc
