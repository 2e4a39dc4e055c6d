#!/usr/bin/env bash
# Checks that every C file is formatted with the project's .clang-format.
set -euo pipefail
cd "$(dirname "$0")/.."
bad=$(git ls-files '*.c' '*.h' | xargs clang-format --dry-run 2>&1 | grep "warning:" || true)
if [ -n "$bad" ]; then
    echo "$bad" | cut -d: -f1 | sort | uniq -c | sed 's/^/not formatted: /'
    echo "run: git ls-files '*.c' '*.h' | xargs clang-format -i"
    exit 1
fi
echo "clang-format: clean"
