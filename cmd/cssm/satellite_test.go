package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The disconnected round by files, as an admin types it; a reply applied
// twice is refused with exit 1 and a sentence.
func TestSatelliteSyncByFiles(t *testing.T) {
	dir := t.TempDir()
	hq, depot := filepath.Join(dir, "hq", "cssm"), filepath.Join(dir, "depot", "cssm")
	f := func(name string) string { return filepath.Join(dir, name) }
	must := func(args ...string) string {
		t.Helper()
		code, out, errOut := cli(args...)
		if code != 0 {
			t.Fatalf("cssm %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	must("--store", hq, "account", "create", "--smart", "HQ", "--virtual", "Campus")
	must("--store", hq, "license", "add", "--virtual", "Campus", "--tier", "HCSFoundation", "--count", "7")
	for store, file := range map[string]string{hq: "hq.pem", depot: "depot.pem"} {
		if err := os.WriteFile(f(file), []byte(must("--store", store, "key")), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	must("--store", hq, "satellite", "add", "depot", "--key", f("depot.pem"), "--virtual", "Campus")
	must("--store", depot, "satellite", "setup", "--name", "depot", "--parent-key", f("hq.pem"))
	must("--store", depot, "satellite", "sync", "export", f("up.json"))
	must("--store", hq, "satellite", "sync", "import", f("up.json"), "--reply", f("reply.json"))
	if out := must("--store", depot, "satellite", "sync", "apply", f("reply.json")); !strings.Contains(out, "1 virtual account updated") {
		t.Fatalf("apply: %q", out)
	}
	if out := must("--store", depot, "usage", "--virtual", "Campus"); !strings.Contains(out, "| HCS UCM Foundation License (12.x)           |         7 |") {
		t.Fatalf("the satellite's pool:\n%s", out)
	}
	code, out, errOut := cli("--store", depot, "satellite", "sync", "apply", f("reply.json"))
	if code != 1 || out != "" || !strings.Contains(errOut, "already been applied") {
		t.Fatalf("apply again: exit %d %q %q", code, out, errOut)
	}
	if out := must("--store", hq, "satellite", "list"); !strings.Contains(out, "| depot     | Campus           |") || !strings.Contains(out, "Synchronized") {
		t.Fatalf("list: %q", out)
	}
	if out := must("--store", depot, "satellite", "status"); !strings.Contains(out, "Satellite: depot\n") || !strings.Contains(out, "Virtual Accounts: Campus\n") || !strings.Contains(out, "Status: Synchronized\n") {
		t.Fatalf("status: %q", out)
	}
	if out := must("--store", depot, "--now", "2099-01-01T00:00:00Z", "satellite", "status"); !strings.Contains(out, "Status: Satellite synchronization overdue\n") {
		t.Fatalf("status 30 days on: %q", out)
	}
	if code, _, errOut := cli("--store", hq, "satellite", "status"); code != 1 || !strings.Contains(errOut, "not a satellite") {
		t.Fatalf("status on the parent: %d %q", code, errOut)
	}
	if code, _, errOut := cli("--store", depot, "satellite", "sync"); code != 1 || !strings.Contains(errOut, "no parent URL") {
		t.Fatalf("connected sync without a parent: %d %q", code, errOut)
	}
}
