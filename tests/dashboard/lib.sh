# Helpers for the dashboard tests, on top of the integration tests' lib.sh:
# a fresh QUEUECTL_HOME, a real broker and workers, and dashboards started
# with port 0 whose URL is read from their first line of output.
. "$QC_SOURCE/tests/integration/lib.sh"

# start_dashboard NAME [FLAGS...]: starts `queuectl dashboard --listen
# 127.0.0.1:0 FLAGS` and sets DASH_URL (http://127.0.0.1:PORT/) and DASH_PID.
start_dashboard() {
    local name=$1; shift
    local out="$QUEUECTL_HOME/$name.out"
    "$QUEUECTL" dashboard --listen 127.0.0.1:0 "$@" >"$out" 2>>"$QUEUECTL_HOME/$name.log" &
    DASH_PID=$!
    QC_PIDS+=("$DASH_PID")
    wait_for 10 grep_q -o 'http://[^ ]*/' "$out"
    DASH_URL=$(grep -o 'http://[^ ]*/' "$out" | head -n 1)
}

# stop_dashboard PID: SIGTERM, and it must exit 0 within 5 s.
stop_dashboard() {
    local pid=$1 rc=0
    kill -TERM "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$pid" 2>/dev/null && fail "dashboard $pid did not stop within 5 s of SIGTERM"
    wait "$pid" || rc=$?
    [ "$rc" = 0 ] || fail "dashboard exited with $rc on SIGTERM"
}
