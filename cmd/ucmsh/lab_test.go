package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/crypto/ssh"

	"github.com/ucmsh/ucmsh/golden"
	ulab "github.com/ucmsh/ucmsh/lab"
	"github.com/ucmsh/ucmsh/lab/labtest"
)

// The lab scripts drive `ucmsh lab` as a user does: up in the background,
// the subcommands, and SSH logins to its nodes (labssh).
func TestLabScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/lab",
		UpdateScripts: golden.Updating(),
		Setup:         scriptEnv,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitfile": waitfile,
			"labssh":   labssh,
			"labtoken": labtoken,
		},
	})
}

// waitfile FILE waits (up to a minute) for a file to appear.
func waitfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfile FILE")
	}
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := os.Stat(ts.MkAbs(args[0])); err == nil {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s did not appear within a minute", args[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func labInventory(ts *testscript.TestScript, dir string) ulab.Inventory {
	jsonFile, _ := ulab.InventoryFiles(ts.MkAbs(dir))
	var inv ulab.Inventory
	if err := json.Unmarshal([]byte(ts.ReadFile(jsonFile)), &inv); err != nil {
		ts.Fatalf("inventory: %v", err)
	}
	return inv
}

// labtoken DIR TOKEN VAR sets $VAR to a seeded token of the lab in DIR.
func labtoken(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: labtoken DIR TOKEN VAR")
	}
	for _, tok := range labInventory(ts, args[0]).Tokens {
		if tok.Name == args[1] {
			ts.Setenv(args[2], tok.Token)
			return
		}
	}
	ts.Fatalf("no token %s", args[1])
}

// labssh DIR HOST COMMAND... logs in to a lab node as admin with the
// password in $WORK/pw and runs the command; its output is the stdout
// the next "stdout" checks, and a failing command fails unless negated.
func labssh(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 3 {
		ts.Fatalf("usage: labssh DIR HOST COMMAND...")
	}
	var addr string
	for _, n := range labInventory(ts, args[0]).Nodes {
		if n.Hostname == args[1] {
			addr = n.Addr()
		}
	}
	if addr == "" {
		ts.Fatalf("no node %s in the inventory", args[1])
	}
	out, errOut, err := sshRun(addr, strings.TrimSpace(ts.ReadFile("pw")), strings.Join(args[2:], " "))
	ts.Stdout().Write([]byte(out))
	ts.Stderr().Write([]byte(errOut))
	switch {
	case err != nil && !neg:
		ts.Fatalf("%s: %v\n%s", args[1], err, out)
	case err == nil && neg:
		ts.Fatalf("%s: the command succeeded", args[1])
	}
}

// ucmsh serve --listen 127.0.0.1:0 --ready-file writes the bound address
// once it accepts, and removes it once it has stopped.
func TestServeReadyFile(t *testing.T) {
	state, ready := t.TempDir(), filepath.Join(t.TempDir(), "ready.json")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		done <- serve(ctx, []string{"--state", state, "--listen", "127.0.0.1:0", "--ready-file", ready}, new(bytes.Buffer), new(bytes.Buffer), nil)
	}()
	defer func() {
		cancel()
		<-done
		if _, err := os.Stat(ready); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the ready file outlived the server: %v", err)
		}
	}()
	deadline := time.Now().Add(time.Minute)
	var data []byte
	for {
		var err error
		if data, err = os.ReadFile(ready); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no ready file")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var r ServeReady
	if err := json.Unmarshal(data, &r); err != nil || !strings.HasPrefix(r.SSH, "127.0.0.1:") {
		t.Fatalf("ready file %s: %v", data, err)
	}
	c, err := net.DialTimeout("tcp", r.SSH, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	banner := make([]byte, 4)
	if _, err := c.Read(banner); err != nil || string(banner) != "SSH-" {
		t.Fatalf("no SSH server at the ready address: %q %v", banner, err)
	}
}

// sshRun logs in as admin with a password and runs one command.
func sshRun(addr, password, command string) (stdout, stderr string, err error) {
	c, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{
		User:            "admin",
		Auth:            []ssh.AuthMethod{ssh.Password(password)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		Timeout:         30 * time.Second,
	})
	if err != nil {
		return "", "", err
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		return "", "", err
	}
	defer s.Close()
	var out, errOut bytes.Buffer // two: the session copies them concurrently
	s.Stdout, s.Stderr = &out, &errOut
	err = s.Run(command)
	return out.String(), errOut.String(), err
}

// The test helper package starts a lab and a single node, as another
// project's tests would (here with this test binary as ucmsh).
func TestLabtestStartsALabAndANode(t *testing.T) {
	o := labtest.Options{Binary: os.Args[0], Env: []string{"UCMSH_AS_MAIN=1"}}
	l := labtest.Start(t, o, "--clusters", "2", "--subscribers", "1")
	if len(l.Inventory.Nodes) != 4 || len(l.Inventory.Tokens) != 2 {
		t.Fatalf("inventory %+v", l.Inventory)
	}
	out, _, err := sshRun(l.Node("c2-sub1").Addr(), l.Password, "show network cluster")
	if err != nil || !strings.Contains(out, "c2-pub.lab.example.com c2-pub Publisher") || strings.Contains(out, "c1-pub") {
		t.Fatalf("show network cluster on c2-sub1: %v\n%s", err, out)
	}
	var st ulab.Status
	if err := l.Control().Do("GET", "/v1/status", nil, &st); err != nil || len(st.Nodes) != 4 {
		t.Fatalf("status %+v %v", st, err)
	}
	l.Stop()

	n := labtest.StartNode(t, o)
	out, _, err = sshRun(n.Addr, n.Password, "show myself")
	if err != nil || !strings.Contains(out, "admin") {
		t.Fatalf("show myself on the node: %v\n%s", err, out)
	}
}

// A lab killed at any moment resumes from its folder: same addresses,
// same registrations.
func TestLabResumesAfterKill(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("correct horse battery\n"), 0o600)
	up := func(ready string, args ...string) (*exec.Cmd, ulab.Inventory) {
		cmd := exec.Command(os.Args[0], append([]string{"lab", "up", "--dir", filepath.Join(dir, "lab"), "--ready-file", ready}, args...)...)
		cmd.Env = append(os.Environ(), "UCMSH_AS_MAIN=1")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(time.Minute)
		for {
			if data, err := os.ReadFile(ready); err == nil {
				var inv ulab.Inventory
				if err := json.Unmarshal(data, &inv); err != nil {
					t.Fatal(err)
				}
				return cmd, inv
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatal("the lab did not start")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	cmd, inv := up(filepath.Join(dir, "ready1"), "--clusters", "1", "--first-port", "0", "--password-file", pw)
	var pub ulab.Place
	for _, n := range inv.Nodes {
		if n.Role == ulab.Publisher {
			pub = n
		}
	}
	if out, _, err := sshRun(pub.Addr(), "correct horse battery", "license smart register idtoken "+inv.Tokens[0].Token); err != nil {
		t.Fatalf("register: %v\n%s", err, out)
	}
	cmd.Process.Kill()
	cmd.Wait()

	ready2 := filepath.Join(dir, "ready2")
	cmd, inv2 := up(ready2)
	defer func() {
		if c, err := ulab.Dial(filepath.Join(dir, "lab")); err == nil {
			c.Do("POST", "/v1/down", struct{}{}, nil)
		}
		cmd.Wait()
		// A lab that went down removes its ready file (the killed one
		// could not: ready1 is still there).
		if _, err := os.Stat(ready2); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the ready file outlived the lab: %v", err)
		}
	}()
	if inv2.Nodes[0].Addr() != inv.Nodes[0].Addr() {
		t.Errorf("resumed on %s, was %s", inv2.Nodes[0].Addr(), inv.Nodes[0].Addr())
	}
	out, _, err := sshRun(pub.Addr(), "correct horse battery", "show license summary")
	if err != nil || !strings.Contains(out, "Status: REGISTERED") {
		t.Fatalf("after the kill and resume: %v\n%s", err, out)
	}
}
