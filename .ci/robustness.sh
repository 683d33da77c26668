#!/usr/bin/env bash
# Robustness checks (issue 7): every test under the race detector, then
# every fuzz target for a bounded count of executions, each target within
# FUZZTIMEOUT. Self-contained; .ci/run calls it. About 9 minutes on 2
# cores: the race run takes 3-4, the fuzzing FUZZTIME (default 50,000
# executions) per target plus its build, about 5.
#
# The budget is a count, not a duration: with a duration, Go 1.26's fuzz
# coordinator can fail a target with "context deadline exceeded" as the
# window closes, having found nothing (go.dev/issue/75804, fixed in Go
# 1.27); a count has no deadline to race. Slow targets take longer
# (cssm's REST fuzzer runs about 1,000 per second on 2 cores).
#
# A fuzz failure leaves its input in <package>/testdata/fuzz/<target>/;
# once the bug is fixed, commit that file: `go test` replays it from then
# on as a regression case.
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="/usr/local/go/bin:$PATH"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
FUZZTIME="${FUZZTIME:-50000x}"
FUZZTIMEOUT="${FUZZTIMEOUT:-10m}" # per target; raise it with FUZZTIME
start=$SECONDS
log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "== go test -race ./..."
go test -race -count=1 -timeout 15m ./...
echo "   (race run: $((SECONDS - start)) s)"

echo "== fuzz every target, -fuzztime $FUZZTIME"
# Every Fuzz function of every package, so new targets are run too.
targets=$(go test -list '^Fuzz' ./... 2>/dev/null | awk '
  /^Fuzz/ { names = names " " $1; next }
  /^ok/ && names != "" { print $2 names; names = "" }')
if [ -z "$targets" ]; then
  echo "no fuzz targets found"; exit 1
fi
while read -r pkg names; do
  for name in $names; do
    echo "-- $pkg $name"
    # -fuzzminimizetime caps the minimization of each new input, which
    # otherwise can take the whole budget; -parallel 2 matches CI's cores.
    # go test's -timeout does not apply to fuzzing: timeout(1) ends a
    # target that has become slow, with its workers (it signals its
    # process group), and exits 124.
    rc=0
    timeout -k 30s "$FUZZTIMEOUT" go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" \
        -fuzzminimizetime 2s -parallel 2 > "$log" 2>&1 || rc=$?
    if [ "$rc" != 0 ]; then
      tail -n 30 "$log"
      if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        echo "FAIL: $pkg $name did not finish -fuzztime $FUZZTIME in $FUZZTIMEOUT: look for what became slow, or raise FUZZTIMEOUT with FUZZTIME"
      elif grep -q 'Failing input written' "$log"; then
        echo "FAIL: $pkg $name found a failing input; it is saved under $(go list -f '{{.Dir}}' "$pkg")/testdata/fuzz/$name/"
      else
        echo "FAIL: $pkg $name failed (no failing input was written; see above)"
      fi
      exit 1
    fi
    grep -E '^fuzz: elapsed' "$log" | tail -n 1 || true
  done
done <<< "$targets"
echo "== robustness checks passed in $((SECONDS - start)) s"
