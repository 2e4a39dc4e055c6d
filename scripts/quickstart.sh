#!/usr/bin/env bash
# From nothing to a working queue: installs what is missing, builds, starts a
# local broker and 2 workers, and enqueues a job that succeeds and one that
# fails its way into the dead-letter queue. Uses $QUEUECTL_HOME (~/.queuectl).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build
q=build/queuectl
$q broker start
$q worker start --count 2
ok=$($q enqueue --id "hello-$(date +%s)" -- 'echo "hello from queuectl on $(hostname)"')
bad=$($q enqueue --id "doomed-$(date +%s)" --max-retries 1 -- 'echo "about to fail" >&2; exit 3')
echo "enqueued $ok (succeeds) and $bad (fails, retries once after 2s, then goes to the DLQ)"
for _ in $(seq 100); do   # at most 10 s
    [ "$($q show --json "$bad" | grep -c '"state":[[:space:]]*"dead"')" = 1 ] && break
    sleep 0.1
done
echo; $q status
echo; $q list
echo; $q dlq list
echo; $q show "$ok"
cat <<EOT

The queue keeps running in the background. Try:
  $q enqueue sleep 5            # a job
  $q worker list                # who is working
  $q show $bad                  # every attempt, with output
  $q dlq retry $bad             # give it another chance
  $q worker stop; $q broker stop
EOT
