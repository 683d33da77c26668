package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// On a terminal, useradd asks twice and never shows the password.
func TestUseraddTerminal(t *testing.T) {
	state := t.TempDir()
	for _, tc := range []struct {
		second, want string
		ok           bool
	}{
		{"a different one!", "the passwords differ; nothing was changed", false},
		{"s3cret-passw0rd", "ucmsh: account admin added in ", true},
	} {
		cmd := exec.Command(os.Args[0], "useradd", "--state", state, "admin")
		cmd.Env = append(os.Environ(), "UCMSH_AS_MAIN=1")
		c := ptyConsole(t, cmd, 24, 80)
		c.Expect("Password for admin: ")
		c.Send("s3cret-passw0rd\r")
		c.Expect("Retype the password: ")
		c.Send(tc.second + "\r")
		c.Expect(tc.want)
		if err := cmd.Wait(); (err == nil) != tc.ok {
			t.Fatalf("exit: %v", err)
		}
		out := c.Out.String()
		if strings.Contains(out, "s3cret") || strings.Contains(out, "different") {
			t.Fatalf("the password was echoed:\n%q", out)
		}
	}
	data, err := os.ReadFile(filepath.Join(state, "ssh", "users"))
	if err != nil || !strings.HasPrefix(string(data), "admin:$2a$") {
		t.Fatalf("%q %v", data, err)
	}
}
