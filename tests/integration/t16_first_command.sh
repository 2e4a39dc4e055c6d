#!/usr/bin/env bash
# Every command works as the first command: on a fresh QUEUECTL_HOME any
# command that needs the local broker starts it (saying so on stderr); aimed
# at a broker by name (--broker, QUEUECTL_BROKER) none ever does.
. "$(dirname "$0")/lib.sh"
[ -z "${QC_PG_DIR:-}" ] || { echo "SKIP on PostgreSQL: each fresh home autostarts its own broker; on one shared PostgreSQL database the second is passive by design"; exit 77; }
home=$QUEUECTL_HOME
broker_pid() { cat "$1/broker.pid" 2>/dev/null; }

# config set first, as every walkthrough does
qc config set max-retries 5 >"$home/out" 2>"$home/err" || fail "config set on a fresh home: rc=$? $(cat "$home/err")"
grep_q "started a local broker" "$home/err" || fail "no word of the broker it started: $(cat "$home/err")"
pid=$(broker_pid "$home")
[ -n "$pid" ] && kill -0 "$pid" || fail "no broker running after config set"
# the next command uses it and says nothing about starting one
[ "$(qc config get max-retries --json 2>"$home/err" | json "j['max_retries']")" = 5 ] || fail "config not kept"
[ ! -s "$home/err" ] || fail "second command printed: $(cat "$home/err")"
[ "$(broker_pid "$home")" = "$pid" ] || fail "a second broker was started"
qc enqueue --id first -- true >/dev/null
[ "$(job_field first max_retries)" = 5 ] || fail "max_retries from config not applied"

# status on a fresh home: an empty queue, exit 0
h2=$home/h2; mkdir -m 700 "$h2"
QUEUECTL_HOME=$h2 "$QUEUECTL" status >"$home/out" 2>"$home/err" || fail "status on a fresh home: rc=$? $(cat "$home/err")"
p2=$(broker_pid "$h2"); [ -n "$p2" ] && QC_PIDS+=("$p2")
grep_q "^  pending *0$" "$home/out" || fail "status: $(cat "$home/out")"
grep_q "^Workers *0 connected" "$home/out" || fail "status: $(cat "$home/out")"
grep_q "started a local broker" "$home/err" || fail "status: no word of the broker: $(cat "$home/err")"
# a read on a fresh home (list) too
h3=$home/h3; mkdir -m 700 "$h3"
[ "$(QUEUECTL_HOME=$h3 "$QUEUECTL" list 2>/dev/null)" = "no jobs" ] || fail "list on a fresh home"
p3=$(broker_pid "$h3"); [ -n "$p3" ] && QC_PIDS+=("$p3")
[ -n "$p3" ] || fail "list started no broker"
QUEUECTL_HOME=$h3 "$QUEUECTL" broker stop >/dev/null || fail "broker stop in h3"

# several first commands at once: all succeed, one broker
h6=$home/h6; mkdir -m 700 "$h6"
cpids=()
for i in 1 2 3 4 5; do
    QUEUECTL_HOME=$h6 "$QUEUECTL" enqueue --id "c$i" true >/dev/null 2>>"$home/err6" &
    cpids+=($!)
done
for p in "${cpids[@]}"; do wait "$p" || fail "a concurrent first command failed: $(cat "$home/err6")"; done
p6=$(broker_pid "$h6"); [ -n "$p6" ] && QC_PIDS+=("$p6")
[ "$(QUEUECTL_HOME=$h6 "$QUEUECTL" list --jsonl | wc -l)" = 5 ] || fail "concurrent enqueues lost"
[ "$(grep -c "started a local broker" "$home/err6")" = 1 ] || fail "not one broker started: $(cat "$home/err6")"
QUEUECTL_HOME=$h6 "$QUEUECTL" broker stop >/dev/null

# aimed at a broker by name: never started, exit 3, quickly
for how in flag env; do
    h=$home/r$how; mkdir -m 700 "$h"
    set +e
    if [ $how = flag ]; then
        QUEUECTL_HOME=$h "$QUEUECTL" --broker "ipc://$h/client.sock" config set max-retries 5 2>"$home/err"
    else
        QUEUECTL_HOME=$h QUEUECTL_BROKER="ipc://$h/client.sock" "$QUEUECTL" enqueue true 2>"$home/err"
    fi
    rc=$?; set -e
    [ $rc = 3 ] || fail "--broker ($how) on a fresh home: rc=$rc $(cat "$home/err")"
    grep_none "a broker was started for an explicit endpoint ($how)" "started" "$home/err"
    [ -z "$(broker_pid "$h")" ] || { QC_PIDS+=("$(broker_pid "$h")"); fail "broker.pid written ($how)"; }
done
# --no-autostart: never (shell completion asks with it)
h5=$home/h5; mkdir -m 700 "$h5"
set +e; QUEUECTL_HOME=$h5 "$QUEUECTL" list --no-autostart 2>"$home/err"; rc=$?; set -e
[ $rc = 3 ] && [ -z "$(broker_pid "$h5")" ] || fail "--no-autostart: rc=$rc $(cat "$home/err")"
# broker status never starts one: exit 3 at once, naming the home
h4=$home/h4; mkdir -m 700 "$h4"
t0=$(date +%s%N)
set +e; QUEUECTL_HOME=$h4 "$QUEUECTL" broker status 2>"$home/err"; rc=$?; set -e
[ $rc = 3 ] || fail "broker status with none: rc=$rc"
grep_q "no broker is running" "$home/err" || fail "broker status: $(cat "$home/err")"
[ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 1500 ] || fail "broker status took the whole timeout"
[ -z "$(broker_pid "$h4")" ] || fail "broker status started a broker"
note "ok"
