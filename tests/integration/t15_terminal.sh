#!/usr/bin/env bash
# The terminal views under a real pseudo-terminal (script(1)): colors and
# "ago" times on a TTY, plain text in a pipe, wait's progress bar, and watch
# drawing its screen and quitting on q.
. "$(dirname "$0")/lib.sh"
unset NO_COLOR
start_broker
start_worker --concurrency 2
for i in 1 2 3; do qc enqueue --id "ok$i" true >/dev/null; done
qc enqueue --id bad --max-retries 0 false >/dev/null
wait_for 10 state_is bad dead
tty() { script -qefc "$*" /dev/null </dev/null; }

# list on a terminal: colored states, relative times; in a pipe: neither
tty "$QUEUECTL list" >"$QUEUECTL_HOME/tty.out"
grep_q $'\e\\[31mdead' "$QUEUECTL_HOME/tty.out" || fail "no color on a TTY"
grep_q "s ago" "$QUEUECTL_HOME/tty.out" || fail "no relative time on a TTY"
qc list >"$QUEUECTL_HOME/pipe.out"
grep_none "escape codes in a pipe" $'\e' "$QUEUECTL_HOME/pipe.out"
grep_q "T[0-9:.]*Z" "$QUEUECTL_HOME/pipe.out" || fail "no ISO time in a pipe"
# Each output is checked to be a list first: a list that failed has no escapes either.
NO_COLOR=1 tty "$QUEUECTL list" >"$QUEUECTL_HOME/nocolor.out" || fail "list with NO_COLOR failed"
tty "$QUEUECTL --no-color list" >"$QUEUECTL_HOME/flag.out" || fail "list --no-color failed"
for out in nocolor flag; do
    grep_q "ok1" "$QUEUECTL_HOME/$out.out" || fail "$out: no list: $(cat -v "$QUEUECTL_HOME/$out.out")"
done
grep_none "NO_COLOR ignored" $'\e' "$QUEUECTL_HOME/nocolor.out"
grep_none "--no-color ignored" $'\e' "$QUEUECTL_HOME/flag.out"

# wait --all draws a progress bar and ends with the count
qc enqueue --id slow1 sleep 1 >/dev/null
qc enqueue --id slow2 sleep 1.5 >/dev/null
tty "$QUEUECTL wait slow1 slow2" >"$QUEUECTL_HOME/wait.out"
grep_q '\[##############################\] 2/2 done, 0 failed' "$QUEUECTL_HOME/wait.out" || fail "progress bar: $(cat -v "$QUEUECTL_HOME/wait.out")"

# watch: draws counts and workers, quits on q
mkfifo "$QUEUECTL_HOME/keys.fifo"
script -qefc "$QUEUECTL watch --interval 200ms" /dev/null <"$QUEUECTL_HOME/keys.fifo" >"$QUEUECTL_HOME/watch.out" &
watch_pid=$!; QC_PIDS+=($watch_pid)
exec 7>"$QUEUECTL_HOME/keys.fifo"
wait_for 10 grep_q "Workers (1)" "$QUEUECTL_HOME/watch.out"
grep_q "completed" "$QUEUECTL_HOME/watch.out" || fail "watch shows no counts"
grep_q "bad" "$QUEUECTL_HOME/watch.out" || fail "watch shows no failures"
printf q >&7
wait_for 5 sh -c "! kill -0 $watch_pid"
exec 7>&-
note "ok"
