package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/ucmsh/ucmsh/sshd"
)

// An SSH account's privilege level reaches its session: a level-1 account
// reads the reports but may not change licensing; a level-4 account may;
// a key login (the node owner's authorized_keys) is level 4.
func TestServePrivilegeLevels(t *testing.T) {
	l := startServe(t)
	dir := filepath.Join(l.state, "ssh")
	if err := sshd.AddUserPrivilege(dir, "ops", []byte(labPassword), false, 1); err != nil {
		t.Fatal(err)
	}
	login := func(user string) *ssh.Client {
		c, err := ssh.Dial("tcp", l.addr, &ssh.ClientConfig{
			User: user, Auth: []ssh.AuthMethod{ssh.Password(labPassword)},
			HostKeyCallback: l.hostKey(), Timeout: 10 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	ops := login("ops")
	if out, st := runExec(t, ops, "show myself", ""); st != 0 || !strings.Contains(out, "privilege level : 1\n") {
		t.Fatalf("show myself: %q %d", out, st)
	}
	if out, st := runExec(t, ops, "license smart reservation enable", ""); st != 1 ||
		!strings.HasPrefix(out, "Insufficient privilege: license smart reservation enable needs privilege level 4, and the account ops has level 1.") {
		t.Fatalf("level 1 changed licensing: %q %d", out, st)
	}
	if out, st := runExec(t, ops, "show license status", ""); st != 0 || !strings.Contains(out, "Status: DISABLED") {
		t.Fatalf("level 1 report: %q %d", out, st)
	}
	if out, st := runExec(t, l.dial("admin"), "license smart reservation enable", ""); st != 0 {
		t.Fatalf("key login: %q %d", out, st)
	}
}
