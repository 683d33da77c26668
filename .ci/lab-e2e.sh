#!/usr/bin/env bash
# A 3-cluster lab driven from Python with paramiko over its generated
# inventory (lab/pytest: the documented fixture). Bounded: the lab stops
# itself at the end, and the whole run is under 5 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

if ! /usr/bin/python3 -c 'import paramiko, pytest' 2>/dev/null; then
  apt-get update -qq
  apt-get install -y -qq python3-paramiko python3-pytest >/dev/null
fi
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/ucmsh" ./cmd/ucmsh
UCMSH="$bin/ucmsh" timeout 300 /usr/bin/python3 -m pytest -q -p no:cacheprovider lab/pytest
