#!/usr/bin/env bash
# Issue 10 item 14: `cssm serve` answers a probe from 127.0.0.1 within 1 s while
# 20,000 idle keep-alive and slow-header connections from 127.0.0.2 and
# 127.0.0.3 are open. Bounded: one test run, under a minute on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="/usr/local/go/bin:$PATH"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

# 20,000 client sockets and the server's side of them in one process.
want=65536
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$want" ]; then
  ulimit -Hn "$want" 2>/dev/null || { echo "cannot raise the open-file limit to $want (run as root)"; exit 1; }
fi
ulimit -n "$want"

CSSM_FLOOD_CONNS=20000 go test -count=1 -timeout 5m -v -run '^TestServeAnswersDuringAConnectionFlood$' ./cssm
