#!/usr/bin/env bash
# Remote machines join with one command each (issue 13). The broker runs in
# network namespace A (worker, client and events endpoints on
# tcp://10.202.0.1, CURVE on); the newcomers run in namespace B, each with a QUEUECTL_HOME of its
# own, joined to A by a veth pair. On the broker's machine the CLI uses the
# broker's local ipc socket (no key). Checked:
# - queuectl invite prints one line; queuectl-worker --join TOKEN in B
#   enrolls, registers and runs a job; restarted with no token and no flags
#   it connects again and runs another; keys list shows its key with the
#   invite it came through;
# - keys revoke drops it at once (its running job goes the worker_lost way)
#   and it is refused from then on;
# - queuectl join TOKEN with a worker's token (a service's home), then
#   queuectl-worker alone takes over the revoked worker's job;
# - queuectl join TOKEN (client) in B, then enqueue and status with no flags;
# - from B, invite and keys revoke are refused (only the broker's machine
#   decides who may connect), and an unknown key is refused at the events
#   socket's handshake while invites are open;
# - a used-up token (--uses 1, twice), an expired one (--ttl 1s) and a wrong
#   secret are refused with their message and exit code (7, 6, 5), and so is
#   a token whose broker key is not the broker's (5, at the handshake);
#   wrong secrets in a row are cut off (rate_limited, exit 8).
# Needs root (network namespaces); skips with 77 otherwise. Creates only its
# own namespaces and the veth pair inside them; deletes them on exit.
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: needs root to create network namespaces" >&2
    exit 77
fi
command -v ip >/dev/null 2>&1 || { echo "SKIP: ip (iproute2) not installed" >&2; exit 77; }
. "$(dirname "$0")/../integration/lib.sh"

NS_A="qcjoinA$$"
NS_B="qcjoinB$$"
NS_MADE=()
ADDR_A=10.202.0.1
ADDR_B=10.202.0.2
WEP="tcp://$ADDR_A:5556"
CEP="tcp://$ADDR_A:5555"
d="$QUEUECTL_HOME"
HOMES=()
t0=$(date +%s%N)

# Kills what we started, deletes our namespaces and the newcomers' homes,
# then lets lib.sh's clean-up print logs on failure and remove QUEUECTL_HOME.
netns_cleanup() {
    local rc=$?
    local pid ns
    for pid in "${QC_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for _ in $(seq 30); do
        local alive=0
        for pid in "${QC_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    for pid in "${QC_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    for ns in "${NS_MADE[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
    if [ $rc != 0 ] && [ $rc != 77 ]; then
        for h in "${HOMES[@]}"; do
            for f in "$h"/*.log; do [ -f "$f" ] && { echo "=== $f" >&2; tail -n 30 "$f" >&2; }; done
        done
    fi
    for h in "${HOMES[@]}"; do rm -rf "$h"; done
    if [ $rc = 77 ]; then
        rm -rf "$QUEUECTL_HOME"
        exit 77
    fi
    set +e
    (exit $rc)
    qc_cleanup
}
trap netns_cleanup EXIT

ip netns add "$NS_A" 2>"$d/netns.err" || { echo "SKIP: ip netns add failed: $(cat "$d/netns.err")" >&2; exit 77; }
NS_MADE+=("$NS_A")
ip netns add "$NS_B" 2>"$d/netns.err" || { echo "SKIP: ip netns add failed: $(cat "$d/netns.err")" >&2; exit 77; }
NS_MADE+=("$NS_B")
ip -n "$NS_A" link add vetha type veth peer name vethb netns "$NS_B" ||
    fail "cannot create the veth pair"
ip -n "$NS_A" addr add "$ADDR_A/30" dev vetha
ip -n "$NS_B" addr add "$ADDR_B/30" dev vethb
ip -n "$NS_A" link set vetha up
ip -n "$NS_B" link set vethb up
log_has() { grep_q -F -- "$2" "$1"; }
log_count() { grep -c -F -- "$2" "$1" || true; }

# A home of its own for each newcomer in B (0700, as queuectl requires).
new_home() { local h; h=$(mktemp -d /tmp/qcj.XXXXXX); chmod 700 "$h"; HOMES+=("$h"); echo "$h"; }
# in_b HOME CMD...: runs CMD in namespace B with that QUEUECTL_HOME (exec all the way down).
in_b() { local h=$1; shift; ip netns exec "$NS_B" env QUEUECTL_HOME="$h" "$@"; }
# expect_refused WANT_RC TEXT LOG CMD...: CMD fails with WANT_RC and says TEXT.
expect_refused() {
    local want=$1 text=$2 log=$3 rc=0
    shift 3
    "$@" >"$log" 2>&1 || rc=$?
    [ "$rc" = "$want" ] || fail "$* exited $rc, expected $want: $(cat "$log")"
    log_has "$log" "$text" || fail "$* did not say '$text': $(cat "$log")"
}
token_field() { "$PY" -c "
import base64, json, sys
t = sys.argv[1].split('.', 1)[1]
print(json.loads(base64.urlsafe_b64decode(t + '=' * (-len(t) % 4)))[sys.argv[2]])" "$1" "$2"; }

# The broker in A. Both endpoints on tcp: the client socket too, so that a
# client can join; the CLI here reaches it through the local ipc socket.
EEP="tcp://$ADDR_A:5557"
ip netns exec "$NS_A" "$BROKER" --worker-endpoint "$WEP" --client-endpoint "$CEP" \
    --events-endpoint "$EEP" --liveness 2s --heartbeat 500ms >>"$d/broker.log" 2>&1 &
BROKER_PID=$!
QC_PIDS+=("$BROKER_PID")
wait_for 10 qc --no-autostart status
wait_for 5 log_has "$d/broker.log" "and locally on ipc://$d/client.sock"

# ---- A worker joins with the token, runs a job ----------------------------
qc invite --role worker >"$d/invite.out" 2>"$d/invite.err" || fail "invite: $(cat "$d/invite.err")"
[ "$(wc -l <"$d/invite.out")" = 1 ] || fail "invite printed more than one line: $(cat "$d/invite.out")"
TOKEN=$(cat "$d/invite.out")
case "$TOKEN" in qcjoin1.*) ;; *) fail "not a token: $TOKEN" ;; esac
[ "$(token_field "$TOKEN" endpoint)" = "$WEP" ] || fail "token endpoint: $(token_field "$TOKEN" endpoint)"
INVITE=$(token_field "$TOKEN" invite)
grep_q -F "$(token_field "$TOKEN" secret)" "$d/authorized/invites.json" &&
    fail "the secret itself is stored in invites.json"
[ "$(stat -c %a "$d/authorized/invites.json")" = 600 ] || fail "invites.json is not 0600"

WH=$(new_home)
# Not through in_b: a function in the background would be a subshell, and
# $! its PID; ip netns exec and env exec, so $! is the worker's.
ip netns exec "$NS_B" env QUEUECTL_HOME="$WH" "$WORKER" --join "$TOKEN" --name remote1 \
    --log-level debug >"$WH/join.log" 2>&1 &
W1=$!
QC_PIDS+=("$W1")
wait_for 15 log_has "$WH/join.log" "registered with $WEP as remote1"
log_has "$WH/join.log" "joined the broker at $WEP as worker key remote1" || fail "no joined line"
log_has "$d/broker.log" "from $ADDR_B as worker remote1 (invite $INVITE)" || fail "broker did not log the enrollment"
[ -s "$WH/keys/worker.cert_secret" ] && [ "$(stat -c %a "$WH/keys/worker.cert_secret")" = 600 ] ||
    fail "the worker's secret key is missing or not 0600"
grep_q -F "worker-endpoint = \"$WEP\"" "$WH/keys/broker.cert" || fail "broker endpoint not kept"
wait_for 5 workers_are 1
qc enqueue --id j1 -- echo ran-j1 >/dev/null
wait_for 10 state_is j1 completed
[ "$(job_field j1 worker_id)" = remote1 ] || fail "j1 ran on $(job_field j1 worker_id)"

# keys list: role, name, key, when, which invite.
qc keys list --json >"$d/keys.json"
"$PY" - "$d/keys.json" "$INVITE" "$(sed -n 's/.*public-key = "\(.*\)"/\1/p' "$WH/keys/worker.cert")" <<'EOF' ||
import json, sys
keys = json.load(open(sys.argv[1]))
want = [k for k in keys if k["name"] == "remote1"]
assert len(want) == 1, keys
k = want[0]
assert k["role"] == "worker" and k["invite"] == sys.argv[2] and k["key"] == sys.argv[3], k
assert k["enrolled_at"].endswith("Z"), k
EOF
    fail "keys list: $(cat "$d/keys.json")"
qc keys list | grep_q -E "^worker +remote1 +.* $INVITE\$" || fail "keys list table: $(qc keys list)"

# ---- Restarted with no token and no flags, it still works ------------------
kill -TERM "$W1"
wait "$W1" || fail "the worker exited with $? on SIGTERM"
wait_for 5 workers_are 0
ip netns exec "$NS_B" env QUEUECTL_HOME="$WH" "$WORKER" >"$WH/again.log" 2>&1 &
W2=$!
QC_PIDS+=("$W2")
wait_for 15 log_has "$WH/again.log" "registered with $WEP as"
wait_for 5 workers_are 1
qc enqueue --id j2 -- echo ran-j2 >/dev/null
wait_for 10 state_is j2 completed
W2_ID=$(job_field j2 worker_id)
note "worker restarted without a token as $W2_ID"

# ---- Revoked: dropped at once, its running job lost, refused from then on --
qc enqueue --id j3 --max-retries 3 -- \
    "for i in \$(seq 600); do [ -e $WH/release ] && break; sleep 0.1; done; echo j3" >/dev/null
wait_for 10 state_is j3 processing
# Its shell runs (the worker said STARTED): losing it now is a charged attempt.
shell_started() { [ "$(job_field "$1" started_at)" != None ]; }
wait_for 10 shell_started j3
qc keys revoke remote1 >"$d/revoke.out" || fail "revoke failed"
grep_q "revoked worker key remote1" "$d/revoke.out" || fail "revoke said: $(cat "$d/revoke.out")"
grep_q "1 connected worker dropped" "$d/revoke.out" || fail "revoke said: $(cat "$d/revoke.out")"
# At once: no liveness window passes before the broker forgets it.
workers_are 0 || fail "the revoked worker is still registered: $(qc worker list)"
st=$(job_state j3)
[ "$st" = failed ] || [ "$st" = pending ] || fail "j3 is $st after the revoke, expected failed"
[ "$(qc show --json j3 | json "j['attempts_log'][0]['outcome']")" = worker_lost ] ||
    fail "j3's attempt: $(qc show --json j3 | json "j['attempts_log'][0]")"
log_has "$d/broker.log" "worker $W2_ID dropped: its key was revoked" || fail "drop not logged"
wait_for 10 log_has "$WH/again.log" "key refused by broker $WEP"
# It keeps trying and keeps being refused; it never registers again.
wait_for 15 sh -c "[ \$(grep -c -F 'key refused by broker' '$WH/again.log') -ge 2 ]"
[ "$(log_count "$d/broker.log" "worker $W2_ID registered")" = 1 ] || fail "the revoked worker registered again"
workers_are 0 || fail "the revoked worker is registered"
[ -z "$(qc keys list --json | json "[k['name'] for k in j if k['role'] == 'worker']" | tr -d '[]')" ] ||
    fail "keys list after revoke: $(qc keys list)"
touch "$WH/release"

# ---- A worker's home joined by queuectl join (as for a service), then
# queuectl-worker alone ----------------------------------------------------
STOKEN=$(qc invite --role worker)
SH=$(new_home)
in_b "$SH" "$QUEUECTL" join "$STOKEN" --name svc1 >"$SH/join.log" 2>&1 || fail "join (worker): $(cat "$SH/join.log")"
grep_q "joined the broker at $WEP as worker svc1" "$SH/join.log" || fail "join said: $(cat "$SH/join.log")"
ip netns exec "$NS_B" env QUEUECTL_HOME="$SH" "$WORKER" --name svc1 >"$SH/worker.log" 2>&1 &
QC_PIDS+=($!)
wait_for 15 log_has "$SH/worker.log" "registered with $WEP as svc1"
wait_for 10 state_is j3 completed # the job the revoked worker lost, retried here
[ "$(job_field j3 worker_id)" = svc1 ] || fail "j3 ran on $(job_field j3 worker_id)"

# ---- A client joins and enqueues with no flags -----------------------------
CTOKEN=$(qc invite --role client --uses 1)
[ "$(token_field "$CTOKEN" endpoint)" = "$CEP" ] || fail "client token endpoint: $(token_field "$CTOKEN" endpoint)"
CH=$(new_home)
in_b "$CH" "$QUEUECTL" join "$CTOKEN" --name laptop >"$CH/join.log" 2>&1 || fail "client join: $(cat "$CH/join.log")"
grep_q "joined the broker at $CEP as client laptop" "$CH/join.log" || fail "join said: $(cat "$CH/join.log")"
in_b "$CH" "$QUEUECTL" enqueue --id c1 -- echo from-the-client >"$CH/enqueue.log" 2>&1 ||
    fail "client enqueue: $(cat "$CH/enqueue.log")"
[ "$(job_field c1 command)" = "echo from-the-client" ] || fail "c1 not stored"
in_b "$CH" "$QUEUECTL" status --json >"$CH/status.json" 2>&1 || fail "client status: $(cat "$CH/status.json")"
qc keys list | grep_q -E "^client +laptop " || fail "client key not listed: $(qc keys list)"
# Who may connect is decided on the broker's machine only.
expect_refused 1 "changes who may connect: run it on the broker's machine" "$CH/invite.log" \
    in_b "$CH" "$QUEUECTL" invite --role worker
expect_refused 1 "changes who may connect" "$CH/revoke.log" in_b "$CH" "$QUEUECTL" keys revoke laptop

# Guests are let in only where every message is checked: while invites are
# open, an unknown key is still refused at the events socket's handshake
# (a PUB socket would hand it every event).
ip netns exec "$NS_B" "$PY" - "$EEP" "$(sed -n 's/.*public-key = "\(.*\)"/\1/p' "$d/keys/broker.cert")" \
    >"$d/events_guest.log" 2>&1 <<'EOF' || fail "events socket: $(cat "$d/events_guest.log")"
import sys, time, zmq, zmq.utils.monitor
endpoint, server_key = sys.argv[1], sys.argv[2].encode()
ctx = zmq.Context()
sub = ctx.socket(zmq.SUB)
public, secret = zmq.curve_keypair()
sub.curve_publickey, sub.curve_secretkey, sub.curve_serverkey = public, secret, server_key
monitor = sub.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_HANDSHAKE_FAILED_AUTH)
sub.setsockopt(zmq.SUBSCRIBE, b"")
sub.connect(endpoint)
deadline = time.time() + 10
while time.time() < deadline:
    if monitor.poll(int((deadline - time.time()) * 1000)):
        event = zmq.utils.monitor.recv_monitor_message(monitor)["event"]
        if event == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
            print("refused at the handshake")
            sys.exit(0)
        print("an unknown key got into the events socket")
        sys.exit(1)
print("no handshake result within 10 s")
sys.exit(1)
EOF

# ---- Refusals, each with its message and exit code -------------------------
# Used up: the client token (--uses 1) a second time, from another home.
CH2=$(new_home)
expect_refused 7 "the token has been used up" "$CH2/used.log" in_b "$CH2" "$QUEUECTL" join "$CTOKEN"
# Expired: --ttl 1s, presented once its expiry has passed.
ETOKEN=$(qc invite --role worker --ttl 1s --json | json "j['token']")
expires_ms=$(( $(date +%s%N) / 1000000 + 1000 ))
wait_for 5 sh -c "[ \$(( \$(date +%s%N) / 1000000 )) -gt $expires_ms ]"
WH2=$(new_home)
expect_refused 6 "the token has expired" "$WH2/expired.log" in_b "$WH2" "$WORKER" --join "$ETOKEN"
# Wrong secret: a good token with its secret changed.
GOOD=$(qc invite --role worker)
BAD=$("$PY" -c "
import base64, json, sys
t = sys.argv[1].split('.', 1)[1]
j = json.loads(base64.urlsafe_b64decode(t + '=' * (-len(t) % 4)))
j['secret'] = ('0' if j['secret'][0] != '0' else '1') + j['secret'][1:]
print('qcjoin1.' + base64.urlsafe_b64encode(json.dumps(j).encode()).decode().rstrip('='))" "$GOOD")
expect_refused 5 "the token's secret is wrong" "$WH2/wrong.log" in_b "$WH2" "$WORKER" --join "$BAD"
log_has "$d/broker.log" "enrollment refused: key" || fail "refusals not logged"
# An impostor: the token's broker key is not the broker's at that address.
# The newcomer's handshake fails, so it never shows its secret.
FORGED=$("$PY" -c "
import base64, json, sys, zmq
t = sys.argv[1].split('.', 1)[1]
j = json.loads(base64.urlsafe_b64decode(t + '=' * (-len(t) % 4)))
j['key'] = zmq.curve_keypair()[0].decode()
print('qcjoin1.' + base64.urlsafe_b64encode(json.dumps(j).encode()).decode().rstrip('='))" "$CTOKEN")
CH3=$(new_home)
expect_refused 5 "is not the one that made this token" "$CH3/forged.log" \
    in_b "$CH3" "$QUEUECTL" join "$FORGED"
# Guessing is bounded: wrong secrets in a row are soon not even checked.
limited=0
for i in $(seq 15); do
    rc=0
    in_b "$WH2" "$WORKER" --join "$BAD" >"$WH2/guess.log" 2>&1 || rc=$?
    if [ $rc = 8 ]; then limited=$i; break; fi
    [ $rc = 5 ] || fail "guess $i exited $rc: $(cat "$WH2/guess.log")"
done
[ $limited -gt 0 ] || fail "15 wrong secrets in a row were all checked"
grep_q "too many wrong secrets" "$WH2/guess.log" || fail "rate limit said: $(cat "$WH2/guess.log")"
# Nothing of the above enrolled a key: only laptop and svc1 are there.
[ "$(qc keys list --json | json "sorted(k['name'] for k in j)")" = '["laptop", "svc1"]' ] ||
    fail "keys after the refusals: $(qc keys list)"
note "rate limited after $limited wrong guesses"
note "ok in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
