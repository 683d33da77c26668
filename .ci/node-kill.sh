#!/usr/bin/env bash
# Issue 10 items 5 and 6: a node SIGKILLed in the middle of every
# state-changing call (before and after cssm serve carried it out), then
# its next licensing command: node and cssm agree. Then ten registrations
# at once, and register racing reservation enable, repeated. Bounded:
# UCMSH_KILL_ROUNDS cycles (default 10, at most 50) of 8 kills each, about
# 30 s on 2 cores; the race tests 5 times each.
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="/usr/local/go/bin:$PATH"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

UCMSH_KILL_ROUNDS="${UCMSH_KILL_ROUNDS:-10}" go test -count=1 -timeout 10m -v \
  -run '^TestKilledMidCallNodeAndCSSMAgree$' ./cmd/ucmsh
go test -count=5 -timeout 10m \
  -run '^(TestTenRegisterProcessesOneWinner|TestRegisterRacingReservationEnableProcesses)$' ./cmd/ucmsh
go test -count=5 -timeout 10m \
  -run '^(TestTenRegistrationsOneWinner|TestRegisterRacingReservationEnable|TestALostAnswerIsSentAgainWithItsKey)$' ./publisher
