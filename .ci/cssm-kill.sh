#!/usr/bin/env bash
# Issue 11 (bad input) and issue 10 item 5: SIGKILL cssm serve at random
# moments while products register with idempotency keys, on SQLite and then
# on a throw-away PostgreSQL: every answered registration is in the store,
# none is half-applied, a repeat gets the first answer. Bounded: 25 kills per
# back end, about a minute in all.
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="/usr/local/go/bin:$PATH"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
ROUNDS="${CSSM_KILL_ROUNDS:-25}"

echo "== SIGKILL loop, SQLite ($ROUNDS kills)"
CSSM_KILL_ROUNDS=$ROUNDS go test -count=1 -timeout 5m -run '^TestSIGKILLAtAnyMoment$' ./cssm

echo "== SIGKILL loop, PostgreSQL ($ROUNDS kills)"
. .ci/pg-cluster.sh
PGPORT=54331 pg_start
trap pg_stop EXIT
CSSM_KILL_ROUNDS=$ROUNDS go test -count=1 -timeout 5m -run '^TestSIGKILLAtAnyMoment$' ./cssm
