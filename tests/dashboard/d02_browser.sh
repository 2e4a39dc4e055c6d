#!/usr/bin/env bash
# The dashboard in a real browser: Debian's chromium driven by playwright-core
# (browser_test.js). Installs chromium when root, and playwright-core into
# tests/dashboard/node_modules (npm cache under the build dir); exits 77 (skip)
# when either cannot be had. Screenshots go to $QC_BIN/dashboard-screens; the
# overview is copied to docs/dashboard.png when that is missing or
# QC_UPDATE_SCREENSHOT=1.
set -uo pipefail
: "${QC_BIN:?}" "${QC_SOURCE:?}"
HERE="$QC_SOURCE/tests/dashboard"
skip() { echo "SKIP: $*"; exit 77; }

if [ ! -x /usr/bin/chromium ]; then
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || skip "no /usr/bin/chromium, and not root to apt-get install chromium"
    echo "# installing chromium (apt-get install -y chromium)"
    { apt-get install -y -q chromium || { apt-get update -q && apt-get install -y -q chromium; }; } \
        >"$QC_BIN/apt-chromium.log" 2>&1 || skip "apt-get install chromium failed (see $QC_BIN/apt-chromium.log)"
fi
command -v node >/dev/null && command -v npm >/dev/null || skip "node and npm are needed (apt-get install nodejs npm)"
if [ ! -f "$HERE/node_modules/playwright-core/package.json" ]; then
    echo "# installing playwright-core (npm, cache in $QC_BIN/npm-cache)"
    (cd "$HERE" && npm install --no-save --no-package-lock --no-audit --no-fund \
        --cache "$QC_BIN/npm-cache" --prefix "$HERE" playwright-core) >"$QC_BIN/npm-playwright.log" 2>&1 \
        || skip "npm install playwright-core failed (see $QC_BIN/npm-playwright.log)"
fi

. "$HERE/lib.sh"
start_broker
start_worker --concurrency 2
start_worker --concurrency 2
wait_for 10 workers_are 2
start_dashboard web

OUT="$QC_BIN/dashboard-screens"
mkdir -p "$OUT"
USER_DATA_DIR="$QUEUECTL_HOME/chromium-profile"
mkdir -p "$USER_DATA_DIR"
begin=$(date +%s%N)
DASH_URL=$DASH_URL OUT_DIR=$OUT USER_DATA_DIR=$USER_DATA_DIR NODE_PATH="$HERE/node_modules" \
    timeout 90 node "$HERE/browser_test.js" || fail "the browser test failed"
note "browser test: $(( ($(date +%s%N) - begin) / 1000000 )) ms"
if [ ! -f "$QC_SOURCE/docs/dashboard.png" ] || [ "${QC_UPDATE_SCREENSHOT:-0}" = 1 ]; then
    cp "$OUT/dashboard.png" "$QC_SOURCE/docs/dashboard.png"
    cp "$OUT/dashboard-phone.png" "$QC_SOURCE/docs/dashboard-phone.png"
    note "copied the screenshots to docs/dashboard.png and docs/dashboard-phone.png"
fi
stop_dashboard "$DASH_PID"
note "ok"
