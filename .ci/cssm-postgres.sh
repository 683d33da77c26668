#!/usr/bin/env bash
# Issue 11: cssm's store on PostgreSQL. Starts a throw-away cluster (Debian's
# postgresql package, installed if missing) on 127.0.0.1, runs the store's
# whole test suite against it, then two `cssm serve` replicas on the one
# database taking concurrent registrations. Bounded: a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="/usr/local/go/bin:$PATH"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
. .ci/pg-cluster.sh
pg_start
trap pg_stop EXIT

echo "== the store's tests on PostgreSQL"
go test -count=1 -timeout 10m ./cssm

echo "== two cssm serve replicas on one PostgreSQL"
command -v curl >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null; }
work=$(mktemp -d)
trap 'kill $servers 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; pg_stop' EXIT
servers=""
go build -o "$work/cssm" ./cmd/cssm
export CSSM_DATABASE="$CSSM_TEST_DATABASE"
cssm() { "$work/cssm" --state "$work/store" "$@"; }
cssm account create --smart Lab --virtual Lab >/dev/null
cssm license add --virtual Lab --tier Enhanced --count 500 >/dev/null
cssm export-keys add --virtual Lab --count 5 >/dev/null
tok=$(cssm token create --virtual Lab --allow-export --uses 1000)
once=$(cssm token create --virtual Lab --uses 1)
# The binary itself in the background (not the function, whose subshell a kill would leave
# the server running under).
"$work/cssm" --state "$work/store" serve --listen 127.0.0.1:18441 >"$work/a.log" 2>&1 &
servers="$!"
"$work/cssm" --state "$work/store" serve --listen 127.0.0.1:18442 >"$work/b.log" 2>&1 &
servers="$servers $!"
for port in 18441 18442; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v1/health" >/dev/null && break; sleep 0.1; done
done
for pid in $servers; do
  kill -0 "$pid" 2>/dev/null || { echo "FAIL: a cssm serve did not start:"; cat "$work/a.log" "$work/b.log"; exit 1; }
done

register() { # port token n
  curl -s -o "$work/r-$3.json" -w '%{http_code}\n' -H 'Content-Type: application/json' \
    -H "Idempotency-Key: bench-key-$(printf %016d "$3")" \
    -d "{\"token\":\"$2\",\"udi\":\"PID:UCM,SN:$(printf %05x "$3"),UUID:$(printf %032x "$3")\",\"hostname\":\"cucm-$3\"}" \
    "http://127.0.0.1:$1/v1/register"
}
# 200 products, half on each replica, and every tenth sent to both.
pids=()
for n in $(seq 1 200); do
  register $((18441 + n % 2)) "$tok" "$n" >"$work/s-$n" & pids+=($!)
  if [ $((n % 10)) = 0 ]; then register $((18442 - n % 2)) "$tok" "$n" >"$work/t-$n" & pids+=($!); fi
done
# The single-use token, raced by 20 products on both replicas.
for n in $(seq 1001 1020); do register $((18441 + n % 2)) "$once" "$n" >"$work/o-$n" & pids+=($!); done
wait "${pids[@]}"
ok=$(cat "$work"/s-* | grep -c '^200$' || true)
once_ok=$(cat "$work"/o-* | grep -c '^200$' || true)
instances=$(cssm instance list --virtual Lab | grep -c 'cucm-' || true)
echo "registrations answered 200: $ok of 200; single-use token: $once_ok of 20; instances: $instances"
[ "$ok" = 200 ] || {
  echo "FAIL: registrations were refused, for example:"
  for n in $(seq 1 200); do grep -q '^200$' "$work/s-$n" || { cat "$work/s-$n" "$work/r-$n.json"; echo; break; }; done
  tail -n 5 "$work/a.log" "$work/b.log"
  exit 1
}
[ "$once_ok" = 1 ] || { echo "FAIL: the single-use token registered $once_ok products"; exit 1; }
[ "$instances" = 201 ] || { echo "FAIL: $instances instances, want 201 (none lost, none twice)"; exit 1; }
cssm usage --virtual Lab

echo "== the database goes away and comes back"
pg_down
status=$(register 18441 "$tok" 5000)
echo "while PostgreSQL is down: $status $(cat "$work/r-5000.json")"
[ "$status" = 503 ] && grep -q 'unreachable' "$work/r-5000.json" || { echo "FAIL: want 503 saying the database is unreachable"; exit 1; }
pg_up
status=$(register 18442 "$tok" 5001)
[ "$status" = 200 ] || { echo "FAIL: after PostgreSQL came back: $status $(cat "$work/r-5001.json")"; exit 1; }
status=$(register 18441 "$tok" 5000)   # the same call again: now carried out
[ "$status" = 200 ] || { echo "FAIL: the refused call, sent again: $status $(cat "$work/r-5000.json")"; exit 1; }
instances=$(cssm instance list --virtual Lab | grep -c 'cucm-' || true)
[ "$instances" = 203 ] || { echo "FAIL: $instances instances after the outage, want 203"; exit 1; }
echo "OK"
