#!/usr/bin/env bash
# TCP endpoints use CURVE: listed keys work, a worker key can't act as a
# client, an unlisted key and a plain-text peer are refused (and logged with
# the peer's address), a refused worker says so and retries.
. "$(dirname "$0")/lib.sh"
ports=$("$PY" -c "
import socket
s=[socket.socket() for _ in range(2)]
[x.bind(('127.0.0.1',0)) for x in s]
print(' '.join(str(x.getsockname()[1]) for x in s))")
set -- $ports; wport=$1; cport=$2
start_broker_tcp() {
    "$BROKER" --worker-endpoint "tcp://127.0.0.1:$wport" --client-endpoint "tcp://127.0.0.1:$cport" \
        --liveness 2s --heartbeat 500ms "$@" >>"$QUEUECTL_HOME/broker.log" 2>&1 &
    BROKER_PID=$!; QC_PIDS+=("$BROKER_PID")
}
start_broker_tcp
k="$QUEUECTL_HOME/keys"
wait_for 10 test -s "$k/broker.cert"
qc keygen w1 --role worker >/dev/null
qc keygen c1 --role client >/dev/null
qc keygen stranger --role worker >/dev/null
set +e; qc keygen c1 2>"$QUEUECTL_HOME/err"; rc=$?; set -e
[ $rc = 1 ] && grep_q "not overwriting" "$QUEUECTL_HOME/err" || fail "keygen overwrote a key"
[ "$(stat -c %a "$k/c1.cert_secret")" = 600 ] || fail "secret key is not 0600"
cp "$k/w1.cert" "$QUEUECTL_HOME/authorized/workers/"
cp "$k/c1.cert" "$QUEUECTL_HOME/authorized/clients/"
cq() { qc --broker "tcp://127.0.0.1:$cport" --curve-key "$k/$1.cert_secret" "${@:2}"; }
wait_for 10 cq c1 status
# a listed client works; a worker's key is refused at the client socket's
# handshake (its ZAP domain admits client keys only), so it gets no answer
cq c1 enqueue --id secure echo over curve >/dev/null
set +e; cq w1 --timeout 1s status 2>"$QUEUECTL_HOME/err"; rc=$?; set -e
[ $rc = 3 ] || fail "worker key as client: rc=$rc"
grep_q -F "key $(sed -n 's/.*public-key = "\(.*\)"/\1/p' "$k/w1.cert") is not authorized for queuectl-clients" \
    "$QUEUECTL_HOME/broker.log" || fail "wrong-role refusal not logged"
# an unlisted key and a plain-text client get nothing
set +e; cq stranger --timeout 1s status 2>/dev/null; rc=$?; set -e
[ $rc = 3 ] || fail "unlisted key answered: rc=$rc"
set +e; qc --broker "tcp://127.0.0.1:$cport" --insecure --timeout 1s status 2>/dev/null; rc=$?; set -e
[ $rc = 3 ] || fail "plain-text client answered: rc=$rc"
grep_q -F "key $(sed -n 's/.*public-key = "\(.*\)"/\1/p' "$k/stranger.cert") is not authorized" "$QUEUECTL_HOME/broker.log" || fail "refusal not logged"
grep_q "refused a connection from 127.0.0.1" "$QUEUECTL_HOME/broker.log" || fail "peer address not logged"
# a refused worker notices and retries; a listed worker runs the job
"$WORKER" --broker "tcp://127.0.0.1:$wport" --curve-key "$k/stranger.cert_secret" >"$QUEUECTL_HOME/stranger.log" 2>&1 &
QC_PIDS+=($!)
wait_for 10 grep_q "key refused by broker" "$QUEUECTL_HOME/stranger.log"
"$WORKER" --broker "tcp://127.0.0.1:$wport" --curve-key "$k/w1.cert_secret" --name w1 >"$QUEUECTL_HOME/w1.log" 2>&1 &
QC_PIDS+=($!)
wait_for 10 sh -c "[ \"\$($QUEUECTL --broker tcp://127.0.0.1:$cport --curve-key $k/c1.cert_secret show --json secure | $PY -c 'import json,sys; print(json.load(sys.stdin)[\"state\"])')\" = completed ]"
[ "$(cq c1 worker list --json | json "[w['worker_id'] for w in j]")" = '["w1"]' ] || fail "stranger registered"
# a client's key on the worker socket is refused at the handshake
"$WORKER" --broker "tcp://127.0.0.1:$wport" --curve-key "$k/c1.cert_secret" --name c1w >"$QUEUECTL_HOME/c1w.log" 2>&1 &
QC_PIDS+=($!)
wait_for 10 grep_q "key refused by broker" "$QUEUECTL_HOME/c1w.log"
# a key removed from authorized/ stops working on its open connection within a second or two
rm "$QUEUECTL_HOME/authorized/workers/w1.cert"
wait_for 10 grep_q "key .* is not authorized as a worker" "$QUEUECTL_HOME/broker.log"
# without --insecure the broker refuses nothing less than CURVE; with it, it warns
kill -TERM "$BROKER_PID"; wait "$BROKER_PID" || true
start_broker_tcp --insecure
wait_for 10 qc --broker "tcp://127.0.0.1:$cport" --insecure status
grep_q "INSECURE: tcp://127.0.0.1:$wport accepts unauthenticated peers" "$QUEUECTL_HOME/broker.log" || fail "no insecure warning"
# a worker without a key file gets a clear error
set +e; QUEUECTL_HOME=$(mktemp -d /tmp/qct.XXXXXX) "$WORKER" --broker "tcp://127.0.0.1:$wport" 2>"$QUEUECTL_HOME/err"; rc=$?; set -e
[ $rc = 1 ] && grep_q "needs a CURVE key" "$QUEUECTL_HOME/err" || fail "missing key: rc=$rc $(cat "$QUEUECTL_HOME/err")"
note "ok"
