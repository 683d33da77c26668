package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// cli runs the command line and returns exit code, stdout and stderr.
func cli(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestHelpListsEveryCommand(t *testing.T) {
	code, out, _ := cli("--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, c := range commands {
		if !strings.Contains(out, "\n  "+c.name+" ") {
			t.Errorf("--help does not list %q:\n%s", c.name, out)
		}
	}
	if code, _, errOut := cli(); code != 2 || !strings.Contains(errOut, "Usage: cssm <command>") {
		t.Fatalf("no command: exit %d, %q", code, errOut)
	}
	if code, out, _ := cli("token", "create", "--help"); code != 0 || !strings.Contains(out, "--allow-export") {
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
		code, out, errOut := cli(append(args, "--store", store)...)
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
		code, out, errOut := cli(append(args, "--store", store, now)...)
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
	if out := step("usage", "--virtual", "TAC"); !strings.Contains(out, "| UC Manager Enhanced License (12.x)          |         5 |      0 |") {
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
	if code, out, _ := cli("--store", store, "instance", "list", "--virtual", "TAC"); code != 0 || out != "No product instances.\n" {
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
		code, out, errOut := cli(append(tt.args, "--store", store)...)
		if code != 1 || out != "" || errOut != tt.want {
			t.Errorf("cssm %s: exit %d, stdout %q\nstderr %q\nwant   %q", strings.Join(tt.args, " "), code, out, errOut, tt.want)
		}
	}
}
