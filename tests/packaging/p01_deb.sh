#!/usr/bin/env bash
# p01_deb: build the .deb (Release, -DCMAKE_INSTALL_PREFIX=/usr, in its own
# build dir), extract it with dpkg -x (no root needed), check what it holds
# (control fields, maintainer scripts, binaries, man pages, completion,
# systemd units), and run a real job with the extracted programs.
# Exits 77 (skipped) only when dpkg-deb is missing.
set -euo pipefail

: "${QC_SOURCE:?QC_SOURCE must point at the source tree}"
: "${QC_PKG_WORK:?QC_PKG_WORK must name a work directory}"
: "${QC_VERSION:?QC_VERSION must be the project version}"

if ! command -v dpkg-deb >/dev/null 2>&1; then
    echo "SKIP: dpkg-deb is not installed, so no .deb can be built or inspected"
    exit 77
fi

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# [${SECONDS}s] $*"; }

BUILD=$QC_PKG_WORK/build
ROOT=$QC_PKG_WORK/root
CTRL=$QC_PKG_WORK/control
mkdir -p "$QC_PKG_WORK"
rm -rf "$ROOT" "$CTRL"

# Short path: ipc socket paths are limited to 107 bytes.
QUEUECTL_HOME=$(mktemp -d /tmp/qcpkg.XXXXXX)
export QUEUECTL_HOME
unset QUEUECTL_BROKER QUEUECTL_WORKER_BROKER QUEUECTL_CURVE_KEY QUEUECTL_SERVER_KEY
export NO_COLOR=1
PIDS=()
SCRATCH=$(mktemp -d /tmp/qcpkg-scratch.XXXXXX)

cleanup() {
    local rc=$? pid i
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    if [ $rc -ne 0 ]; then
        echo "--- test failed (rc=$rc); logs:" >&2
        for f in "$QC_PKG_WORK"/*.log "$QUEUECTL_HOME"/*.log; do
            [ -f "$f" ] && { echo "=== $f" >&2; tail -n 40 "$f" >&2; }
        done
    fi
    rm -rf "$QUEUECTL_HOME" "$SCRATCH"
    exit $rc
}
trap cleanup EXIT

# wait_until SECONDS CMD...: polls CMD every 50 ms until it succeeds.
wait_until() {
    local seconds=$1 i
    shift
    for ((i = 0; i < seconds * 20; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    fail "timed out after ${seconds}s waiting for: $*"
}

# ---- 1. build and package -------------------------------------------------
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
configure() {
    cmake -S "$QC_SOURCE" -B "$BUILD" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_INSTALL_PREFIX=/usr -DBUILD_TESTING=OFF ${QC_CC:+-DCMAKE_C_COMPILER="$QC_CC"}
}
note "configuring $BUILD"
if ! configure >"$QC_PKG_WORK/configure.log" 2>&1; then
    # A build dir left by another generator or compiler: start afresh, once.
    rm -rf "$BUILD"
    configure >"$QC_PKG_WORK/configure.log" 2>&1 || fail "cmake configure failed"
fi
note "building (2 jobs)"
cmake --build "$BUILD" --parallel 2 >"$QC_PKG_WORK/build.log" 2>&1 || fail "build failed"
note "cpack -G DEB"
rm -f "$BUILD"/*.deb
(cd "$BUILD" && cpack -G DEB) >"$QC_PKG_WORK/cpack.log" 2>&1 || fail "cpack failed"
debs=("$BUILD"/queuectl_*.deb)
{ [ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ]; } || fail "expected one queuectl_*.deb, got: ${debs[*]}"
DEB=${debs[0]}
arch=$(dpkg --print-architecture)
[ "$(basename "$DEB")" = "queuectl_${QC_VERSION}_${arch}.deb" ] ||
    fail "unexpected package file name $(basename "$DEB")"
note "built $(basename "$DEB") ($(stat -c %s "$DEB") bytes)"

# ---- 2. control fields and maintainer scripts -----------------------------
field() { dpkg-deb --field "$DEB" "$1"; }
[ "$(field Package)" = queuectl ] || fail "Package is '$(field Package)'"
[ "$(field Version)" = "$QC_VERSION" ] || fail "Version is '$(field Version)'"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture is '$(field Architecture)'"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
[ -n "$(field Description)" ] || fail "no Description"
depends=$(field Depends)
for lib in libzmq5 libczmq4 libsqlite3-0 libcjson1 libmicrohttpd12; do
    [[ ", $depends," == *", $lib"[\ ,]* ]] || fail "Depends lacks $lib: $depends"
done
dpkg-deb --control "$DEB" "$CTRL"
for script in postinst prerm postrm; do
    [ -x "$CTRL/$script" ] || fail "maintainer script $script missing or not executable"
    sh -n "$CTRL/$script" || fail "maintainer script $script: syntax error"
done
grep -q '^activate-noawait ldconfig' "$CTRL/triggers" || fail "no ldconfig trigger"

# ---- 3. contents ----------------------------------------------------------
dpkg-deb --contents "$DEB" >"$SCRATCH/contents"
outside=$(awk '{ print $6 }' "$SCRATCH/contents" | grep -v '^\./usr/' || true)
[ -z "$outside" ] || fail "files outside /usr: $outside"
dpkg -x "$DEB" "$ROOT"
expected=(
    usr/bin/queuectl usr/bin/queuectl-broker usr/bin/queuectl-worker usr/bin/queuectl-dashboard
    usr/share/man/man1/queuectl.1.gz usr/share/man/man1/queuectl-dashboard.1.gz
    usr/share/man/man8/queuectl-broker.8.gz usr/share/man/man8/queuectl-worker.8.gz
    usr/share/bash-completion/completions/queuectl
    usr/share/bash-completion/completions/queuectl-worker
    usr/share/zsh/vendor-completions/_queuectl
    usr/lib/systemd/system/queuectl-broker.service
    usr/lib/systemd/system/queuectl-worker@.service
    usr/lib/sysusers.d/queuectl.conf
    usr/share/queuectl/web/index.html
    usr/share/doc/queuectl/README.md
)
for f in "${expected[@]}"; do
    [ -f "$ROOT/$f" ] || fail "missing from the package: /$f"
done
for b in queuectl queuectl-broker queuectl-worker queuectl-dashboard; do
    [ -x "$ROOT/usr/bin/$b" ] || fail "/usr/bin/$b is not executable"
done
# The PostgreSQL store is a module the broker loads only for a postgresql://
# database, from the package's library directory; the broker itself does not
# link libpq (nor what libpq pulls in).
module=$(cd "$ROOT" && find usr/lib -name queuectl-pg.so -path '*/queuectl/*' | head -1)
[ -n "$module" ] || fail "missing from the package: queuectl/queuectl-pg.so under /usr/lib"
grep -qa "/$(dirname "$module")" "$ROOT/usr/bin/queuectl-broker" ||
    fail "queuectl-broker does not look for its PostgreSQL module in /$(dirname "$module")"
! LC_ALL=C readelf -d "$ROOT/usr/bin/queuectl-broker" | grep -q 'libpq' ||
    fail "queuectl-broker links libpq: it belongs to queuectl-pg.so"
LC_ALL=C readelf -d "$ROOT/$module" | grep -q 'libpq' || fail "queuectl-pg.so does not link libpq"
# Only the public headers are installed (client, job, protocol).
headers=$(cd "$ROOT/usr/include/queuectl" && echo *)
[ "$headers" = "client.h job.h protocol.h" ] || fail "installed headers: $headers"
# No build or source path in any text file (units, completion, docs...).
leaks=$(grep -rIl -e "$QC_SOURCE" -e "$BUILD" "$ROOT" || true)
[ -z "$leaks" ] || fail "build paths leak into: $leaks"
# The dashboard finds its page under the package's prefix.
grep -qa '/usr/share/queuectl/web' "$ROOT/usr/bin/queuectl-dashboard" ||
    fail "queuectl-dashboard was not built with QC_WEB_DIR_INSTALL=/usr/share/queuectl/web"
# Only the dashboard links libmicrohttpd (and GnuTLS through it), not the CLI.
! LC_ALL=C readelf -d "$ROOT/usr/bin/queuectl" | grep -q 'libmicrohttpd' ||
    fail "queuectl links libmicrohttpd: the dashboard is queuectl-dashboard's alone"
note "contents: $(grep -vc '/$' "$SCRATCH/contents") files, all under /usr"

# ---- 4. man pages: parse cleanly, carry the version, match --help ---------
mkdir "$SCRATCH/man"
man_text() { cat "$SCRATCH/man/$(basename "$1" .gz)"; }
for page in man1/queuectl.1.gz man1/queuectl-dashboard.1.gz man8/queuectl-broker.8.gz \
    man8/queuectl-worker.8.gz; do
    gzip -dc "$ROOT/usr/share/man/$page" >"$SCRATCH/man/$(basename "$page" .gz)" ||
        fail "$page: bad gzip"
    text=$(man_text "$page")
    grep -q "^\.TH .*\"queuectl $QC_VERSION\"" <<<"$text" || fail "$page: no version in .TH"
    ! grep -q '@[A-Z_]*@' <<<"$text" || fail "$page: unsubstituted @VAR@"
    if command -v groff >/dev/null 2>&1; then
        groff -man -Tutf8 -z -ww <<<"$text" 2>"$SCRATCH/groff.err" || fail "$page: groff failed"
        [ ! -s "$SCRATCH/groff.err" ] || fail "$page: groff warnings: $(cat "$SCRATCH/groff.err")"
    elif command -v man >/dev/null 2>&1; then
        MANWIDTH=80 man -l "$ROOT/usr/share/man/$page" >/dev/null 2>"$SCRATCH/man.err" ||
            fail "$page: man -l failed"
        [ ! -s "$SCRATCH/man.err" ] || fail "$page: man warnings: $(cat "$SCRATCH/man.err")"
    fi
done
QC=$ROOT/usr/bin/queuectl
flags_of() { { grep -o -- '--[a-z][a-z-]*' || true; } | sort -u; }
# Every option a --help names is in the man page (roff writes \-\-flag).
man_has_flags() {
    local page=$1 flag text
    shift
    text=$(man_text "$page")
    while read -r flag; do
        grep -qF -- "${flag//-/\\-}" <<<"$text" || fail "$page does not document $flag ($*)"
    done
}
commands=$("$QC" --help | sed -n '/^commands:/,/^$/p' | awk '/^  [a-z]/ { print $1 }' | sort -u)
[ -n "$commands" ] || fail "could not read the commands from queuectl --help"
for cmd in $commands; do
    grep -q "^\.SS \"$cmd" "$SCRATCH/man/queuectl.1" || fail "queuectl.1 has no section for $cmd"
    "$QC" "$cmd" --help | flags_of | man_has_flags man1/queuectl.1.gz "queuectl $cmd --help"
done
"$QC" --help | flags_of | man_has_flags man1/queuectl.1.gz "queuectl --help"
"$ROOT/usr/bin/queuectl-broker" --help | flags_of |
    man_has_flags man8/queuectl-broker.8.gz "queuectl-broker --help"
"$ROOT/usr/bin/queuectl-worker" --help | flags_of |
    man_has_flags man8/queuectl-worker.8.gz "queuectl-worker --help"
"$ROOT/usr/bin/queuectl-dashboard" --help | flags_of |
    man_has_flags man1/queuectl-dashboard.1.gz "queuectl-dashboard --help"
note "man pages parse and document every command and option of --help"

# ---- 5. shell completion --------------------------------------------------
BASH_COMP=$ROOT/usr/share/bash-completion/completions/queuectl
bash -n "$BASH_COMP" || fail "bash completion: syntax error"
# complete WORDS...: what the bash completion offers for the last word.
complete_words() {
    bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _queuectl
             printf "%s\n" "${COMPREPLY[@]}"' _ "$BASH_COMP" "$@" | sort -u
}
offers() { # offers "WORDS" EXPECTED...: a trailing space completes an empty word
    local words=$1 got want
    local -a w
    shift
    read -r -a w <<<"$words"
    [[ $words == *' ' ]] && w+=("")
    got=$(complete_words "${w[@]}")
    for want in "$@"; do
        grep -qxF -- "$want" <<<"$got" || fail "completing '$words' lacks '$want' (got: ${got//$'\n'/ })"
    done
}
# shellcheck disable=SC2086
offers "queuectl " $commands
offers "queuectl worker " start stop list
offers "queuectl dlq " list retry purge
offers "queuectl broker " start stop status
offers "queuectl keys " list revoke
offers "queuectl invite --role " worker client
offers "queuectl config " get set
offers "queuectl config set " max-retries backoff-base backoff-max job-timeout retention
offers "queuectl config get " all max-retries retention
offers "queuectl list --state " pending processing completed failed dead canceled
offers "queuectl events --state " pending processing completed failed dead canceled
offers "queuectl enqueue --priority " high medium low
offers "queuectl worker : " start stop list
offers "queuectl -" --broker --json --no-color --timeout --insecure --version
# Every flag a command's --help names is offered after that command (and,
# for commands with subcommands, after the subcommand its usage line names).
for cmd in $commands; do
    case $cmd in
    worker | dlq | config | broker | queue | schedule)
        "$QC" "$cmd" --help | sed 's/ | queuectl /\nqueuectl /g' | grep -o "queuectl $cmd .*" |
            while read -r _ _ sub rest; do
                flags=$(flags_of <<<"$rest")
                # shellcheck disable=SC2086
                [ -z "$flags" ] || offers "queuectl $cmd $sub -" $flags
            done
        ;;
    *)
        flags=$("$QC" "$cmd" --help | flags_of)
        # shellcheck disable=SC2086
        [ -z "$flags" ] || offers "queuectl $cmd -" $flags
        ;;
    esac
done
if command -v zsh >/dev/null 2>&1; then
    zsh -n "$ROOT/usr/share/zsh/vendor-completions/_queuectl" || fail "zsh completion: syntax error"
fi
note "bash completion offers every command, subcommand, key, state and flag"

# ---- 6. systemd units -----------------------------------------------------
UNITS=$ROOT/usr/lib/systemd/system
unit_has() { grep -qx -- "$2" "$UNITS/$1" || fail "$1 lacks '$2'"; }
# shellcheck disable=SC2016 # the units' own $VARs
unit_has queuectl-broker.service 'ExecStart=/usr/bin/queuectl-broker $QUEUECTL_BROKER_OPTS'
# shellcheck disable=SC2016
unit_has queuectl-worker@.service \
    'ExecStart=/usr/bin/queuectl-worker --name %H-%i $QUEUECTL_WORKER_OPTS'
for unit in queuectl-broker.service queuectl-worker@.service; do
    for line in User=queuectl Environment=QUEUECTL_HOME=/var/lib/queuectl \
        StateDirectory=queuectl KillSignal=SIGTERM KillMode=mixed Restart=on-failure; do
        unit_has "$unit" "$line"
    done
done
unit_has queuectl-worker@.service 'After=queuectl-broker.service'
unit_has queuectl-worker@.service 'Wants=queuectl-broker.service'
stop_s=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' "$UNITS/queuectl-worker@.service")
{ [ -n "$stop_s" ] && [ "$stop_s" -ge 300 ]; } || fail "worker TimeoutStopSec is under 300s"
grep -q '^u queuectl ' "$ROOT/usr/lib/sysusers.d/queuectl.conf" || fail "sysusers: no queuectl user"
if command -v systemd-analyze >/dev/null 2>&1; then
    # Verify copies whose ExecStart points into the extracted tree (the real
    # /usr/bin has no queuectl); man: links resolve against its man pages.
    mkdir "$SCRATCH/units"
    for unit in queuectl-broker.service queuectl-worker@.service; do
        sed "s|^ExecStart=/usr/bin/|ExecStart=$ROOT/usr/bin/|" "$UNITS/$unit" >"$SCRATCH/units/$unit"
    done
    (cd "$SCRATCH/units" && MANPATH=$ROOT/usr/share/man \
        systemd-analyze verify ./queuectl-broker.service ./queuectl-worker@.service) \
        >"$SCRATCH/verify.out" 2>&1 || fail "systemd-analyze verify: $(cat "$SCRATCH/verify.out")"
    [ ! -s "$SCRATCH/verify.out" ] || fail "systemd-analyze verify: $(cat "$SCRATCH/verify.out")"
    note "systemd-analyze verify: both units clean"
else
    note "systemd-analyze not installed: units checked by content only"
fi

# ---- 7. run a real job with the extracted programs -------------------------
[ "$("$QC" --version)" = "queuectl $QC_VERSION" ] || fail "queuectl --version: $("$QC" --version)"
[ "$("$ROOT/usr/bin/queuectl-broker" --version)" = "queuectl-broker $QC_VERSION" ] ||
    fail "queuectl-broker --version"
"$ROOT/usr/bin/queuectl-worker" --version | grep -qF "$QC_VERSION" || fail "queuectl-worker --version"

"$ROOT/usr/bin/queuectl-broker" >"$QUEUECTL_HOME/broker.log" 2>&1 &
BROKER_PID=$!
PIDS+=("$BROKER_PID")
wait_until 10 "$QC" broker status
"$ROOT/usr/bin/queuectl-worker" --name deb-worker >"$QUEUECTL_HOME/worker.log" 2>&1 &
WORKER_PID=$!
PIDS+=("$WORKER_PID")
id=$("$QC" enqueue --id deb-job -- echo from-deb)
[ "$id" = deb-job ] || fail "enqueue printed '$id'"
timeout 30 "$QC" wait deb-job >/dev/null || fail "the job did not complete (wait: $?)"
shown=$("$QC" --json show deb-job)
grep -Eq '"state":[[:space:]]*"completed"' <<<"$shown" || fail "job not completed: $shown"
[ "$("$QC" logs deb-job)" = from-deb ] || fail "job output: '$("$QC" logs deb-job)'"
shown=$("$QC" show deb-job)
grep -q 'worker *deb-worker' <<<"$shown" || fail "the job did not run on deb-worker: $shown"
note "job deb-job ran on the extracted worker: output 'from-deb'"

kill -TERM "$WORKER_PID"
rc=0
timeout 15 tail --pid="$WORKER_PID" -f /dev/null || fail "worker did not stop on SIGTERM"
wait "$WORKER_PID" || rc=$?
[ $rc -eq 0 ] || fail "worker exited $rc on SIGTERM"
kill -TERM "$BROKER_PID"
timeout 15 tail --pid="$BROKER_PID" -f /dev/null || fail "broker did not stop on SIGTERM"
wait "$BROKER_PID" || rc=$?
[ $rc -eq 0 ] || fail "broker exited $rc on SIGTERM"
PIDS=()
note "PASS"
