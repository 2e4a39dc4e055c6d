#!/usr/bin/env bash
# Lists that page: --limit and --cursor walk the pages, --all streams every
# page, --jsonl prints one compact object per line.
. "$(dirname "$0")/lib.sh"
start_broker
# Pages of a thousand jobs take a while in a sanitizer build on a busy
# machine: wait longer than the default 2 s for each answer.
qc() { "$QUEUECTL" --timeout 30s "$@"; }
n=2345
seq $n | sed 's/.*/{"id":"j&","command":"true"}/' | qc enqueue --file - >/dev/null
count_is pending $n || fail "not all enqueued"
d=$QUEUECTL_HOME
# --all --jsonl: every job once, each line one JSON object, newest first
qc list --all --jsonl >"$d/all.jsonl" 2>"$d/err" || fail "list --all --jsonl: rc=$?"
[ ! -s "$d/err" ] || fail "list --all said: $(cat "$d/err")"
"$PY" - "$d/all.jsonl" $n <<'PY' || fail "--all --jsonl"
import json, sys
ids = []
for line in open(sys.argv[1]):
    assert line.endswith("\n") and "\n" not in line[:-1], "not one object per line"
    job = json.loads(line)
    assert isinstance(job, dict) and job["state"] == "pending", job
    assert line.strip() == json.dumps(job, separators=(",", ":"), ensure_ascii=False), "not compact"
    ids.append(job["id"])
n = int(sys.argv[2])
assert len(ids) == n, len(ids)
assert len(set(ids)) == n, "a job twice"
assert ids == ["j%d" % i for i in range(n, 0, -1)], "not newest first"
PY
# --all --json: one array; --all as a table: the header once
[ "$(qc list --all --json | json "len(j)")" = $n ] || fail "--all --json"
qc list --all >"$d/table"
[ "$(grep -c '^ID ' "$d/table")" = 1 ] || fail "table header not once"
[ "$(grep -c '^j[0-9]' "$d/table")" = $n ] || fail "table rows: $(grep -c '^j[0-9]' "$d/table")"
# --all with --limit: smaller pages, the same jobs
[ "$(qc list --all --limit=500 --jsonl | wc -l)" = $n ] || fail "--all --limit 500"
# one page at a time: the next page's cursor is named on stderr
qc list --limit 1000 --jsonl >"$d/p1" 2>"$d/err1"
[ "$(wc -l <"$d/p1")" = 1000 ] || fail "page 1"
cursor=$(sed -n 's/.*--cursor \([^ ]*\).*/\1/p' "$d/err1")
[ -n "$cursor" ] || fail "no cursor named: $(cat "$d/err1")"
qc list --limit 1000 --cursor "$cursor" --jsonl >"$d/p2" 2>"$d/err2"
cursor2=$(sed -n 's/.*--cursor \([^ ]*\).*/\1/p' "$d/err2")
qc list --limit=1000 --cursor="$cursor2" --jsonl >"$d/p3" 2>"$d/err3"
[ ! -s "$d/err3" ] || fail "last page named a cursor: $(cat "$d/err3")"
[ "$(wc -l <"$d/p2")" = 1000 ] && [ "$(wc -l <"$d/p3")" = 345 ] || fail "page sizes $(wc -l <"$d/p2") $(wc -l <"$d/p3")"
cat "$d/p1" "$d/p2" "$d/p3" | cmp -s - "$d/all.jsonl" || fail "pages differ from --all"
# --cursor with --all: from there to the end
[ "$(qc list --all --cursor "$cursor" --jsonl | wc -l)" = $((n - 1000)) ] || fail "--all from a cursor"
# --state with paging; the DLQ pages the same way
[ "$(qc list --state completed --all --jsonl | wc -l)" = 0 ] || fail "--state completed"
[ "$(qc dlq list --all)" = "no jobs" ] || fail "dlq list --all"
set +e; qc list --cursor banana >/dev/null 2>"$d/err"; rc=$?; set -e
[ $rc = 2 ] && grep_q "cursor must be" "$d/err" || fail "bad cursor: rc=$rc $(cat "$d/err")"
note "ok"
