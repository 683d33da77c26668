package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"
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
		f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 80})
		if err != nil {
			t.Fatal(err)
		}
		c := &console{t: t, f: f, cmd: cmd}
		go func() {
			buf := make([]byte, 1024)
			for {
				n, err := f.Read(buf)
				c.mu.Lock()
				c.out.Write(buf[:n])
				c.mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
		c.expect("Password for admin: ")
		c.send("s3cret-passw0rd\r")
		c.expect("Retype the password: ")
		c.send(tc.second + "\r")
		c.expect(tc.want)
		err = cmd.Wait()
		f.Close()
		if (err == nil) != tc.ok {
			t.Fatalf("exit: %v", err)
		}
		c.mu.Lock()
		out := c.out.String()
		c.mu.Unlock()
		if strings.Contains(out, "s3cret") || strings.Contains(out, "different") {
			t.Fatalf("the password was echoed:\n%q", out)
		}
	}
	data, err := os.ReadFile(filepath.Join(state, "ssh", "users"))
	if err != nil || !strings.HasPrefix(string(data), "admin:$2a$") {
		t.Fatalf("%q %v", data, err)
	}
}
