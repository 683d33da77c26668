package main

import (
	"strings"
	"testing"
)

// The portal's actions on the command line: the same operations as the web
// pages and the REST calls.
func TestPortalActionsAsSubcommands(t *testing.T) {
	store := t.TempDir() + "/cssm"
	must := func(args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(append(args, "--state", store, "--now", "2026-03-02T09:30:00Z")...)
		if code != 0 {
			t.Fatalf("cssm %s: exit %d: %s", strings.Join(args, " "), code, errOut)
		}
		return out
	}
	must("account", "create", "--smart", "BU", "--virtual", "TAC")
	must("account", "create", "--smart", "BU", "--virtual", "Spare")
	must("license", "add", "--virtual", "TAC", "--tier", "Basic", "--count", "2", "--term-end", "2026-03-10")
	tok := strings.TrimSpace(must("token", "create", "--virtual", "TAC", "--uses", "3", "--description", "lab nodes"))
	list := must("token", "list", "--virtual", "TAC")
	if !strings.Contains(list, tok) || !strings.Contains(list, "lab nodes") || !strings.Contains(list, "VALID") {
		t.Fatalf("token list:\n%s", list)
	}
	if out := must("token", "revoke", tok, "--virtual", "TAC"); !strings.Contains(out, "revoked") {
		t.Fatalf("token revoke: %s", out)
	}
	// After --, an argument that starts with '-' is a token, not a flag
	// (cssm's tokens never start so, but a pasted one might).
	code, _, errOut := runCLI("token", "revoke", "--virtual", "TAC", "--state", store, "--", "-NotOneOfOurs")
	if code != 1 || !strings.Contains(errOut, "-NotOneOfOurs") {
		t.Fatalf("token revoke -- -NotOneOfOurs: exit %d %q", code, errOut)
	}
	if list := must("token", "list", "--virtual", "TAC"); !strings.Contains(list, "REVOKED") {
		t.Fatalf("after revoke:\n%s", list)
	}
	evs := must("events", "--virtual", "TAC", "--filter", "token")
	if !strings.Contains(evs, "token revoked") || !strings.Contains(evs, "token created") || strings.Contains(evs, "licenses added") {
		t.Fatalf("events --filter token:\n%s", evs)
	}
	if out := must("alerts", "--virtual", "TAC"); !strings.Contains(out, "Licenses Expiring") || !strings.Contains(out, "within 14 days") {
		t.Fatalf("alerts:\n%s", out)
	}
	if out := must("alerts", "--virtual", "Spare"); !strings.Contains(out, "no alerts") {
		t.Fatalf("alerts of Spare:\n%s", out)
	}
	for _, args := range [][]string{{"events"}, {"events", "--virtual", "TAC", "--limit", "0"}, {"instance", "transfer", "x"}, {"token", "revoke"}} {
		if code, _, _ := runCLI(append(args, "--state", store)...); code != 2 {
			t.Errorf("cssm %s: exit %d, want 2", strings.Join(args, " "), code)
		}
	}
	if code, _, errOut := runCLI("instance", "transfer", "nope", "--to", "Spare", "--state", store); code != 1 || !strings.Contains(errOut, "nope") {
		t.Errorf("transfer of an unknown instance: exit %d %q", code, errOut)
	}
}
