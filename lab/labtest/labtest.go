// Package labtest starts ucmsh labs and single nodes for tests: in a
// temporary folder, on free loopback ports, stopped when the test ends.
//
//	l := labtest.Start(t, labtest.Options{Binary: ucmsh}, "--clusters", "2", "--subscribers", "1")
//	addr := l.Node("c1-pub").Addr()   // log in as admin with l.Password
//	l.Control().Do(...)               // the control plane, as ucmsh lab does
//
// It runs a ucmsh binary (`go build ./cmd/ucmsh`, or a test binary that
// doubles as ucmsh) and waits for its --ready-file.
package labtest

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/lab"
)

// Options say how to run ucmsh.
type Options struct {
	Binary string        // the ucmsh binary
	Env    []string      // added to the environment
	Wait   time.Duration // for the ready file; default a minute
}

// Password is the admin account's password on every node started here.
const Password = "labtest correct horse"

// Lab is a running lab.
type Lab struct {
	Dir       string
	Password  string
	Inventory lab.Inventory
	t         testing.TB
	proc      *process
	once      sync.Once
}

// process is a started ucmsh and the one goroutine that waits for it.
type process struct {
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{}
}

func start(t testing.TB, o Options, args []string) *process {
	t.Helper()
	cmd := exec.Command(o.Binary, args...)
	cmd.Env = append(os.Environ(), o.Env...)
	p := &process{cmd: cmd, out: new(syncBuffer), exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(p.exited) }()
	return p
}

// stop waits for the process to end after ask, killing it after a while.
func (p *process) stop(ask func()) {
	ask()
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// Start runs `ucmsh lab up ARGS --dir TMP --first-port 0 --password-file
// ... --ready-file ...` (ARGS: a lab file, or --clusters N ...) and waits
// until every listener accepts.
func Start(t testing.TB, o Options, args ...string) *Lab {
	t.Helper()
	dir := t.TempDir()
	pw := filepath.Join(dir, "password")
	if err := os.WriteFile(pw, []byte(Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ready := filepath.Join(dir, "ready.json")
	full := append([]string{"lab", "up"}, args...)
	full = append(full, "--dir", filepath.Join(dir, "lab"), "--password-file", pw, "--ready-file", ready)
	if !hasFile(args) {
		full = append(full, "--first-port", "0")
	}
	l := &Lab{Dir: filepath.Join(dir, "lab"), Password: Password, t: t}
	l.proc = start(t, o, full)
	t.Cleanup(l.Stop)
	data := waitFile(t, ready, o, l.proc)
	if err := json.Unmarshal(data, &l.Inventory); err != nil {
		t.Fatalf("the ready file: %v", err)
	}
	return l
}

func hasFile(args []string) bool {
	return len(args) > 0 && !strings.HasPrefix(args[0], "-")
}

func waitFile(t testing.TB, path string, o Options, p *process) []byte {
	t.Helper()
	wait := o.Wait
	if wait == 0 {
		wait = time.Minute
	}
	deadline := time.After(wait)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if data, err := os.ReadFile(path); err == nil {
			return data
		}
		select {
		case <-p.exited:
			t.Fatalf("ucmsh exited before it was ready:\n%s", p.out.String())
		case <-deadline:
			t.Fatalf("ucmsh was not ready within %v:\n%s", wait, p.out.String())
		case <-tick.C:
		}
	}
}

// Node is a node's address by host name.
func (l *Lab) Node(host string) lab.Place {
	for _, n := range l.Inventory.Nodes {
		if n.Hostname == host {
			return n
		}
	}
	l.t.Fatalf("the lab has no node %s", host)
	return lab.Place{}
}

// Control is a client of the lab's control plane.
func (l *Lab) Control() *lab.Client {
	c, err := lab.Dial(l.Dir)
	if err != nil {
		l.t.Fatal(err)
	}
	return c
}

// Stop stops the lab (through its control plane, then by signal).
func (l *Lab) Stop() {
	l.once.Do(func() {
		l.proc.stop(func() {
			if c, err := lab.Dial(l.Dir); err == nil && c.Do("POST", "/v1/down", struct{}{}, nil) == nil {
				return
			}
			l.proc.cmd.Process.Signal(os.Interrupt)
		})
	})
}

// Node is one `ucmsh serve` for tests.
type Node struct {
	Addr     string // HOST:PORT
	State    string
	Password string
}

// StartNode runs `ucmsh serve --listen 127.0.0.1:0 --ready-file ...` on a
// fresh state folder with an admin account (ARGS: more serve flags).
func StartNode(t testing.TB, o Options, args ...string) *Node {
	t.Helper()
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	add := exec.Command(o.Binary, "useradd", "--state", state, "admin")
	add.Env = append(os.Environ(), o.Env...)
	add.Stdin = strings.NewReader(Password + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ucmsh useradd: %v\n%s", err, out)
	}
	ready := filepath.Join(dir, "ready.json")
	n := &Node{State: state, Password: Password}
	p := start(t, o, append([]string{"serve", "--state", state, "--listen", "127.0.0.1:0", "--ready-file", ready}, args...))
	t.Cleanup(func() { p.stop(func() { p.cmd.Process.Signal(os.Interrupt) }) })
	var r struct{ SSH string }
	if err := json.Unmarshal(waitFile(t, ready, o, p), &r); err != nil {
		t.Fatal(err)
	}
	n.Addr = r.SSH
	return n
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
