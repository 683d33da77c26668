package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ucmsh/ucmsh/reservation"
)

// runCLI runs the command line and returns exit code, stdout and stderr.
func runCLI(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestHelpListsEveryCommand(t *testing.T) {
	code, out, _ := runCLI("--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, c := range commands {
		if !strings.Contains(out, "\n  "+c.name+" ") {
			t.Errorf("--help does not list %q:\n%s", c.name, out)
		}
	}
	if code, _, errOut := runCLI(); code != 2 || !strings.Contains(errOut, "Usage: cssm <command>") {
		t.Fatalf("no command: exit %d, %q", code, errOut)
	}
	if code, out, _ := runCLI("token", "create", "--help"); code != 0 || !strings.Contains(out, "--allow-export") {
		t.Fatalf("token create --help: exit %d\n%s", code, out)
	}
}

func TestBadCommandLinesExit2(t *testing.T) {
	store := t.TempDir()
	for _, args := range [][]string{
		{"frobnicate"},
		{"account"},
		{"account", "create", "--smart", "BU"},
		{"account", "create", "--smart", "BU", "--virtual", "TAC", "--colour"},
		{"license", "add", "--virtual", "TAC", "--count", "five", "--tier", "Basic"},
		{"license", "add", "--virtual", "TAC", "--count", "5"},
		{"license", "add", "--virtual", "TAC", "--count", "5", "--tier", "Basic", "--tag", "regid.x"},
		{"instance", "remove"},
		{"usage"},
		{"instance", "list", "--now", "yesterday"},
	} {
		code, out, errOut := runCLI(append(args, "--store", store)...)
		if code != 2 || out != "" || !strings.HasPrefix(errOut, "cssm") {
			t.Errorf("cssm %s: exit %d, stdout %q, stderr %q", strings.Join(args, " "), code, out, errOut)
		}
	}
}

func TestPortalSession(t *testing.T) {
	store := t.TempDir()
	now := "--now=2026-01-15T10:00:00Z"
	step := func(args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(append(args, "--store", store, now)...)
		if code != 0 {
			t.Fatalf("cssm %s: exit %d: %s", strings.Join(args, " "), code, errOut)
		}
		return out
	}
	if out := step("account", "create", "--smart", "BU Production Test", "--virtual", "TAC"); out != "Virtual account \"TAC\" created in smart account \"BU Production Test\".\n" {
		t.Fatalf("account create: %q", out)
	}
	step("license", "add", "--virtual", "TAC", "--tier", "Enhanced", "--count", "5")
	step("license", "add", "--virtual", "TAC", "--tier", "CUWL", "--count", "1", "--term-end", "2026-12-31")
	step("export-keys", "add", "--virtual", "TAC", "--count", "2")

	// TOKEN=$(cssm token create ...) must get the token and nothing else.
	tok := step("token", "create", "--virtual", "TAC", "--uses", "1", "--allow-export")
	if !regexp.MustCompile(`^[A-Za-z0-9_-]{80}\n$`).MatchString(tok) {
		t.Fatalf("token create printed %q", tok)
	}
	if out := step("usage", "--virtual", "TAC"); !strings.Contains(out, "| UC Manager Enhanced License (12.x)          |         5 |        0 |      0 |") {
		t.Fatalf("usage:\n%s", out)
	}
	if out := step("instance", "list"); out != "No product instances.\n" {
		t.Fatalf("instance list: %q", out)
	}
	if out := step("key"); !strings.HasPrefix(out, "-----BEGIN PUBLIC KEY-----\n") {
		t.Fatalf("key: %q", out)
	}
	if out := step("cert"); !strings.HasPrefix(out, "-----BEGIN CERTIFICATE-----\n") {
		t.Fatalf("cert: %q", out)
	}

	// Flags common to every command may also come before it.
	if code, out, _ := runCLI("--store", store, "instance", "list", "--virtual", "TAC"); code != 0 || out != "No product instances.\n" {
		t.Fatalf("--store first: exit %d %q", code, out)
	}
}

func TestFailuresExit1WithOneLine(t *testing.T) {
	store := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"token", "create", "--virtual", "Nope"}, `cssm: there is no virtual account "Nope"; create it with: cssm account create --smart NAME --virtual "Nope"` + "\n"},
		{[]string{"instance", "remove", "0000"}, `cssm: there is no product instance "0000"; list them with: cssm instance list` + "\n"},
		{[]string{"serve", "--listen", "0.0.0.0:8443"}, "cssm: --listen 0.0.0.0:8443 is not a loopback address; use 127.0.0.1:PORT, or add --allow-remote to expose the licensing server to the network\n"},
	} {
		code, out, errOut := runCLI(append(tt.args, "--store", store)...)
		if code != 1 || out != "" || errOut != tt.want {
			t.Errorf("cssm %s: exit %d, stdout %q\nstderr %q\nwant   %q", strings.Join(tt.args, " "), code, out, errOut, tt.want)
		}
	}
}

// The Specific License Reservation walk-through as an admin scripts it, with
// the node's side done by package reservation.
func TestReservationSession(t *testing.T) {
	root := t.TempDir() // a state root: cssm/ beside node/
	store := filepath.Join(root, "cssm")
	now := "--now=2026-01-15T10:00:00Z"
	step := func(args ...string) (string, string) {
		t.Helper()
		code, out, errOut := runCLI(append(args, "--store", store, now)...)
		if code != 0 {
			t.Fatalf("cssm %s: exit %d: %s", strings.Join(args, " "), code, errOut)
		}
		return out, errOut
	}
	refused := func(want string, args ...string) {
		t.Helper()
		code, out, errOut := runCLI(append(args, "--store", store, now)...)
		if code != 1 || out != "" || !strings.HasPrefix(errOut, "cssm: ") || !strings.Contains(errOut, want) || strings.Count(errOut, "\n") != 1 {
			t.Fatalf("cssm %s: exit %d, stdout %q, stderr %q; want exit 1 and one line containing %q", strings.Join(args, " "), code, out, errOut, want)
		}
	}
	pool := func(tier, row string) {
		t.Helper()
		out, _ := step("usage", "--virtual", "TAC")
		if !strings.Contains(out, row) {
			t.Fatalf("usage has no %s row %q:\n%s", tier, row, out)
		}
	}
	step("account", "create", "--smart", "BU", "--virtual", "TAC")
	step("license", "add", "--virtual", "TAC", "--tier", "Enhanced", "--count", "10")
	step("license", "add", "--virtual", "TAC", "--tier", "CUWL", "--count", "2", "--term-end", "2027-12-31")

	node, _ := reservation.NewUDI("UCM", "e53fc968-0253-4d61-a355-ba908a6cc920")
	req := reservation.RequestCode(node)
	file := filepath.Join(t.TempDir(), "auth-code.txt")

	// CODE=$(cssm reservation create ...): the code alone on stdout.
	out, errOut := step("reservation", "create", "--virtual", "TAC", "--request-code", req,
		"--license", "Enhanced=5", "--license", "CUWL=2:TERM:2027-12-31", "--allow-export", "--out", file)
	if strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "<specificPLR>") || !strings.HasSuffix(out, "</specificPLR>\n") {
		t.Fatalf("create printed %q", out)
	}
	if !strings.Contains(errOut, "cssm: reserved CUWL=2:TERM:2027-12-31, Enhanced=5 for "+req+` in virtual account "TAC"`) ||
		!strings.Contains(errOut, "cssm reservation confirm --virtual \"TAC\" --request-code "+req+" --code CODE") {
		t.Fatalf("create said %q", errOut)
	}
	if data, err := os.ReadFile(file); err != nil || string(data) != out {
		t.Fatalf("--out file: %q %v", data, err)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Fatalf("--out file mode %v", fi.Mode())
	}
	// The node in the same state root trusts cssm already.
	keys, err := reservation.LoadTrustDir(filepath.Join(root, "node", "trust"))
	if err != nil || len(keys) != 1 {
		t.Fatalf("node trust: %d keys, %v", len(keys), err)
	}
	ac, err := reservation.ParseAuthCode(out)
	if err == nil {
		err = reservation.Verify(ac, keys)
	}
	if err != nil || !ac.ExportAllowed {
		t.Fatalf("the node cannot use the code: %v", err)
	}
	pool("Enhanced", "| UC Manager Enhanced License (12.x)          |        10 |        5 |      0 |            - |       5 | InCompliance |")
	if again, _ := step("reservation", "code", "--request-code", req); again != out {
		t.Fatalf("reservation code printed %q", again)
	}

	refused(`the confirmation code does not match`, "reservation", "confirm", "--virtual", "TAC", "--request-code", req, "--code", "00000000")
	out, _ = step("reservation", "confirm", "--virtual", "TAC", "--request-code", req, "--code", reservation.ConfirmationCode(ac))
	if !strings.HasPrefix(out, "Confirmation code accepted: "+req) || !strings.HasSuffix(out, "The reservation is Installed.\n") {
		t.Fatalf("confirm: %q", out)
	}

	refused(`has only 10 UC Manager Enhanced License (12.x) free to reserve, not 11`, "reservation", "update", "--request-code", req, "--license", "Enhanced=11")
	out, _ = step("reservation", "update", "--virtual", "TAC", "--request-code", node.String(), "--license", "Enhanced=7")
	updated, err := reservation.ParseAuthCode(out)
	if err != nil || !updated.Timestamp.After(ac.Timestamp) || !updated.ExportAllowed {
		t.Fatalf("update: %v, %+v", err, updated)
	}
	step("reservation", "confirm", "--request-code", req, "--code", reservation.ConfirmationCode(updated))
	pool("Enhanced", "| UC Manager Enhanced License (12.x)          |        10 |        7 |      0 |            - |       3 | InCompliance |")
	pool("CUWL", "| UC Manager CUWL License (12.X)              |         2 |        0 |      0 |            - |       2 | InCompliance |")

	list, _ := step("reservation", "list", "--virtual", "TAC")
	if !strings.Contains(list, "| "+ac.PIID+" | "+node.String()+" | TAC             | Installed | Enhanced=7 | Allowed | 2026-01-15 10:00:00.001 UTC | "+reservation.ConfirmationCode(updated)+"          |") {
		t.Fatalf("reservation list:\n%s", list)
	}
	if insts, _ := step("instance", "list"); !strings.Contains(insts, "| Installed: Enhanced=7 |") {
		t.Fatalf("instance list:\n%s", insts)
	}

	// Removing needs the node's return code; a wrong one changes nothing.
	refused(`holds a Specific License Reservation (Enhanced=7) that would be lost`, "instance", "remove", ac.PIID)
	refused(`the return code does not match`, "instance", "remove", ac.PIID, "--return-code", reservation.ReturnCode(ac))
	pool("Enhanced", "|        10 |        7 |      0 |")
	out, _ = step("instance", "remove", ac.PIID, "--return-code", reservation.ReturnCode(updated))
	if out != "Return code accepted: the reservation of "+req+" (product instance "+ac.PIID+") is returned and Enhanced=7 went back to virtual account \"TAC\".\n" {
		t.Fatalf("remove: %q", out)
	}
	pool("Enhanced", "|        10 |        0 |      0 |            - |      10 |")
	if out, _ := step("reservation", "list"); out != "No license reservations.\n" {
		t.Fatalf("list after return: %q", out)
	}

	// The other way back: reservation return, here for a code never installed.
	out, _ = step("reservation", "create", "--virtual", "TAC", "--request-code", req, "--license", "Enhanced=1")
	pending, _ := reservation.ParseAuthCode(out)
	if !pending.Timestamp.After(updated.Timestamp) {
		t.Fatalf("a new reservation's code is not newer: %s", pending.Timestamp)
	}
	step("reservation", "return", "--request-code", req, "--return-code", reservation.ReturnCode(pending))
	pool("Enhanced", "|        10 |        0 |      0 |            - |      10 |")
}

func TestReservationCommandLines(t *testing.T) {
	store := t.TempDir()
	req := "P:UCM,S:cc920,U:e53fc968-0253-4d61-a355-ba908a6cc920"
	for _, args := range [][]string{
		{"reservation"},
		{"reservation", "create", "--virtual", "TAC", "--license", "Enhanced=5"},
		{"reservation", "create", "--request-code", req, "--license", "Enhanced=5"},
		{"reservation", "create", "--virtual", "TAC", "--request-code", req},
		{"reservation", "create", "--virtual", "TAC", "--request-code", req, "--license", "Enhanced"},
		{"reservation", "create", "--virtual", "TAC", "--request-code", req, "--license", "Gold=1"},
		{"reservation", "update", "--license", "Enhanced=5"},
		{"reservation", "confirm", "--udi-or-request-code", req},
		{"reservation", "return", "--udi-or-request-code", req},
		{"reservation", "code"},
		{"instance", "remove", "ID", "--return-code", "x", "--force-without-return"},
	} {
		code, out, errOut := runCLI(append(args, "--store", store)...)
		if code != 2 || out != "" || !strings.HasPrefix(errOut, "cssm") {
			t.Errorf("cssm %s: exit %d, stdout %q, stderr %q", strings.Join(args, " "), code, out, errOut)
		}
	}
	if code, out, _ := runCLI("reservation", "create", "--help"); code != 0 || !strings.Contains(out, "--license stringArray") || !strings.Contains(out, "--out string") {
		t.Fatalf("reservation create --help: exit %d\n%s", code, out)
	}
}

func TestInstanceListPages(t *testing.T) {
	store := t.TempDir()
	s := func(args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(append([]string{"--store", store, "--now", "2026-01-15T10:00:00Z"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		return out + errOut
	}
	s("account", "create", "--smart", "BU", "--virtual", "TAC")
	if out := s("instance", "list", "--limit", "2"); !strings.Contains(out, "No product instances") {
		t.Fatalf("empty page:\n%s", out)
	}
	if code, _, errOut := runCLI("--store", store, "instance", "list", "--after", "x"); code != 2 || !strings.Contains(errOut, "--after needs --limit") {
		t.Fatalf("--after alone: exit %d %s", code, errOut)
	}
}

func TestAPIClientsAndUsers(t *testing.T) {
	store := t.TempDir()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "secret"), []byte("a-secret-of-twenty-chars\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "pw"), []byte("correct horse\n"), 0o600)
	code, out, errOut := runCLI("--store", store, "api-client", "create", "lab builder", "--id", "lab-builder-01", "--secret-file", filepath.Join(dir, "secret"))
	if code != 0 || out != "Client ID: lab-builder-01\nClient secret: a-secret-of-twenty-chars\n" || !strings.Contains(errOut, "stored hashed") {
		t.Fatalf("api-client create: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCLI("--store", store, "api-client", "create", "generated")
	if code != 0 || !regexp.MustCompile(`^Client ID: cssm-\S+\nClient secret: \S{40,}\n$`).MatchString(out) {
		t.Fatalf("generated client: exit %d\n%s", code, out)
	}
	if code, _, errOut := runCLI("--store", store, "api-client", "create", "again", "--id", "lab-builder-01"); code != 1 || !strings.Contains(errOut, "exists already") {
		t.Fatalf("same id twice: exit %d %s", code, errOut)
	}
	if code, out, errOut := runCLI("--store", store, "user", "add", "alice", "--password-file", filepath.Join(dir, "pw"), "--role", "read-only"); code != 0 || !strings.Contains(out, `User "alice" (read-only of every account) saved.`) {
		t.Fatalf("user add: exit %d %s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI("--store", store, "user", "add", "alice", "--password-file", filepath.Join(dir, "pw"), "--role", "admin", "--smart", "Nope"); code != 1 || out != "" || !strings.Contains(errOut, `there is no smart account "Nope"`) {
		t.Fatalf("user add over an unknown account: exit %d %s%s", code, out, errOut)
	}
	if code, _, errOut := runCLI("--store", store, "user", "add", "bob", "--password-file", filepath.Join(dir, "pw"), "--role", "root"); code != 1 || !strings.Contains(errOut, "not admin, user or read-only") {
		t.Fatalf("bad role: exit %d %s", code, errOut)
	}
	if code, _, errOut := runCLI("--store", store, "user", "add", "bob"); code != 2 || !strings.Contains(errOut, "--password-file is required") {
		t.Fatalf("no password file: exit %d %s", code, errOut)
	}
}
