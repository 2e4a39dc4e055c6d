#!/usr/bin/env bash
# Installs the Debian packages queuectl needs to build and test, skipping
# what is already present. apt-get as root, sudo otherwise.
set -euo pipefail
packages=(gcc cmake ninja-build pkg-config libzmq3-dev libczmq-dev libsodium-dev libsqlite3-dev libcjson-dev
          libmicrohttpd-dev libpq-dev postgresql-15 sqlite3 python3-zmq procps iproute2 tzdata
          ${QC_EXTRA_PACKAGES:-})
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
if [ "$(id -u)" = 0 ]; then sudo=(); else sudo=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
