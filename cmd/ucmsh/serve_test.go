package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/ucmsh/ucmsh/internal/termtest"
	"github.com/ucmsh/ucmsh/sshd"
)

// lab is ucmsh serve running in the test process on a loopback port.
type lab struct {
	t     *testing.T
	addr  string
	state string
	key   ssh.Signer // in authorized_keys
	priv  ed25519.PrivateKey
	out   *termtest.Buffer // serve's standard output
	log   *termtest.Buffer // and its log
}

const labPassword = "correct horse battery"

func startServe(t *testing.T, extra ...string) *lab {
	t.Helper()
	return startServeAt(t, t.TempDir(), append([]string{"--now", "2026-11-01T10:00:00Z"}, extra...)...)
}

// startServeAt serves the node whose state folder is state, on the system
// clock unless extra says otherwise.
func startServeAt(t *testing.T, state string, extra ...string) *lab {
	t.Helper()
	sshDir := filepath.Join(state, "ssh")
	os.MkdirAll(sshDir, 0o700)
	key, priv := termtest.SSHKey(t)
	if err := os.WriteFile(filepath.Join(sshDir, sshd.AuthorizedKeysFile), ssh.MarshalAuthorizedKey(key.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}
	shareRSAKey(t, sshDir)
	l := &lab{t: t, state: state, key: key, priv: priv, out: &termtest.Buffer{}, log: &termtest.Buffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan int, 1)
	args := append([]string{"--state", state, "--listen", "127.0.0.1:0"}, extra...)
	go func() { done <- serve(ctx, args, l.out, l.log, func(a string) { ready <- a }) }()
	select {
	case l.addr = <-ready:
	case code := <-done:
		t.Fatalf("serve exited %d:\n%s%s", code, l.out, l.log)
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not start")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve exited %d:\n%s", code, l.log)
			}
		case <-time.After(10 * time.Second):
			t.Error("serve did not stop")
		}
	})
	return l
}

var (
	rsaOnce sync.Once
	rsaDir  string
)

// shareRSAKey puts one RSA host key, made once, into sshDir: making a
// 3072-bit key for every test server would take long.
func shareRSAKey(t *testing.T, sshDir string) {
	t.Helper()
	rsaOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ucmsh-rsa-")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sshd.LoadHostKeys(dir); err != nil {
			t.Fatal(err)
		}
		rsaDir = dir
	})
	for _, name := range []string{sshd.HostKeyRSAFile, sshd.HostKeyRSAFile + ".pub"} {
		data, err := os.ReadFile(filepath.Join(rsaDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sshDir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// dial logs in as user with the lab's key (any valid name may use it).
func (l *lab) dial(user string) *ssh.Client {
	l.t.Helper()
	c, err := ssh.Dial("tcp", l.addr, &ssh.ClientConfig{
		User:            user,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(l.key)},
		HostKeyCallback: l.hostKey(),
		Timeout:         10 * time.Second,
	})
	if err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() { c.Close() })
	return c
}

// hostKey checks the server's key against those in the state folder.
func (l *lab) hostKey() ssh.HostKeyCallback {
	var known []ssh.PublicKey
	for _, name := range []string{sshd.HostKeyFile, sshd.HostKeyRSAFile} {
		pub, err := os.ReadFile(filepath.Join(l.state, "ssh", name+".pub"))
		if err != nil {
			l.t.Fatal(err)
		}
		k, _, _, _, err := ssh.ParseAuthorizedKey(pub)
		if err != nil {
			l.t.Fatal(err)
		}
		known = append(known, k)
	}
	return func(_ string, _ net.Addr, key ssh.PublicKey) error {
		for _, k := range known {
			if string(k.Marshal()) == string(key.Marshal()) {
				return nil
			}
		}
		return errors.New("unknown host key " + ssh.FingerprintSHA256(key))
	}
}

// runExec runs one command over an exec request: its output, then what it
// wrote to stderr (a failure), and its exit status.
func runExec(t *testing.T, c *ssh.Client, cmd, stdin string) (string, int) {
	t.Helper()
	out, errOut, st := termtest.Exec(t, c, cmd, stdin)
	return out + errOut, st
}

// term is an SSH session with a PTY, read as a terminal would show it.
type term struct {
	*termtest.Screen
	t    *testing.T
	s    *ssh.Session
	done chan error
}

func openTerm(t *testing.T, c *ssh.Client, rows, cols int) *term {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RequestPty("xterm", rows, cols, ssh.TerminalModes{ssh.ECHO: 1}); err != nil {
		t.Fatal(err)
	}
	in, err := s.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	tm := &term{Screen: termtest.New(t, in), t: t, s: s, done: make(chan error, 1)}
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	go func() {
		io.Copy(tm.Out, out)
		tm.done <- s.Wait()
	}()
	return tm
}

func (tm *term) exit() error {
	tm.t.Helper()
	select {
	case err := <-tm.done:
		return err
	case <-time.After(10 * time.Second):
		tm.t.Fatal("the session did not end")
	}
	return nil
}

func TestServePTYSession(t *testing.T) {
	l := startServe(t)
	c := l.dial("admin")
	tm := openTerm(t, c, 12, 100)

	// Banner, then the prompt as the last thing written.
	tm.Expect("Command Line Interface is starting up, please wait ...\r\n\r\n   Welcome to the Platform Command Line Interface\r\n\r\nVMware Installation:\r\n\t2 vCPU: ")
	tm.Expect("8192 Mbytes RAM\r\n\r\nadmin:")
	if rest := tm.Idle(100 * time.Millisecond); rest != "" {
		t.Fatalf("output after the prompt: %q", rest)
	}
	// The command is echoed plainly: admin:<command> is one clean line.
	tm.Send("show license UDI\r")
	if got := tm.Expect("admin:"); !strings.HasPrefix(got, "show license UDI\r\nUDI: PID:UCM,SN:") || strings.Contains(got, "\x1b") {
		t.Fatalf("echo and output: %q", got)
	}
	// Tab completes; on several continuations it lists them.
	tm.Send("show license UD\t")
	tm.Expect("UDI ")
	tm.Send("\x15license smart \t")
	tm.Expect("license smart \r\n")
	listing := tm.Expect("admin:license smart ")
	for _, w := range []string{"register*", "deregister", "reservation*", "export*"} {
		if !strings.Contains(listing, w) {
			t.Errorf("the Tab listing lacks %q:\n%q", w, listing)
		}
	}
	tm.Send("\x15")
	// Long output is paged to the client's window, which may change.
	tm.Send("show license all\r")
	tm.Expect("show license all\r\n")
	first := tm.Expect(pager)
	if n := strings.Count(first, "\r\n"); n != 11 {
		t.Fatalf("first page has %d lines, want 11:\n%q", n, first)
	}
	if err := tm.s.WindowChange(6, 100); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	tm.Send(" ")
	page := tm.Expect(pager)
	if n := strings.Count(page, "\r\n"); n != 5 {
		t.Fatalf("page after the window shrank has %d lines, want 5:\n%q", n, page)
	}
	tm.Send("\r")
	if n := strings.Count(tm.Expect(pager), "\r\n"); n != 1 {
		t.Fatal("enter did not show one line")
	}
	tm.Send("q")
	// The pager takes its question away with spaces (paramiko-expect strips escapes).
	tm.Expect("\r" + strings.Repeat(" ", len("Press <enter> for 1 line, <space> for one page, or <q> to quit")) + "\radmin:")
	// Control-C abandons the line.
	tm.Send("show lic\x03")
	if got := tm.Expect("admin:"); got != "show lic\r\nControl-C pressed\r\nadmin:" {
		t.Fatalf("Control-C: %q", got)
	}
	// Pagination is per session; off, the report comes whole.
	tm.Send("set cli pagination off\r")
	tm.Expect("Automatic pagination is turned off\r\nadmin:")
	tm.Send("show license all\r")
	if all := tm.Expect("admin:"); strings.Contains(all, "Press <enter>") || !strings.Contains(all, "Smart Agent for Licensing") {
		t.Fatalf("unpaged report: %q", all)
	}
	tm.Send("show myself\r")
	if got := tm.Expect("admin:"); !strings.Contains(got, "account name    : admin\r\n") {
		t.Fatalf("show myself: %q", got)
	}
	tm.Send("show licence\r")
	tm.Expect("Executed command unsuccessfully\r\nadmin:")
	// quit ends the session and closes the connection.
	tm.Send("quit\r")
	if err := tm.exit(); err != nil {
		t.Fatalf("exit status: %v", err)
	}
	if !termtest.Closes(c, 5*time.Second) {
		t.Fatal("the connection stayed open after quit")
	}
	time.Sleep(50 * time.Millisecond)
	for _, want := range []string{`msg="ssh login" user=admin addr=127.0.0.1:`, `method=publickey key=SHA256:`, `msg="ssh logout" user=admin`} {
		if !strings.Contains(l.log.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, l.log)
		}
	}
}

// A shell left at its prompt, parked there after a command, ends with its
// connection at the idle timeout: the parked session sees the end of its
// input, the logout is logged, and the server then stops cleanly (the
// cleanup fails if a parked session is never counted out).
func TestServeParkedShellEndsAtTheIdleTimeout(t *testing.T) {
	l := startServe(t, "--idle-timeout", "1s")
	// One shell idle at its first prompt, one after a command (parked in
	// the goroutine that read for it).
	first := l.dial("admin")
	openTerm(t, first, 24, 80).Expect("admin:")
	c := l.dial("admin")
	tm := openTerm(t, c, 24, 80)
	tm.Expect("admin:")
	tm.Send("show myself\r")
	tm.Expect("account name    : admin\r\n")
	tm.Expect("admin:")
	for _, c := range []*ssh.Client{first, c} {
		if !termtest.Closes(c, 5*time.Second) {
			t.Fatal("an idle parked shell kept its connection open")
		}
	}
	tm.exit()
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(l.log.String(), `msg="ssh logout" user=admin`) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no logout after the idle timeout:\n%s", l.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(l.log.String(), `msg="ssh idle timeout" user=admin`) {
		t.Fatalf("log:\n%s", l.log)
	}
}

// Clients such as paramiko send a command, even a long code, at once and
// ahead of the prompt; they expect the echo line intact.
func TestServeTypeAheadAndLongLines(t *testing.T) {
	l := startServe(t)
	tm := openTerm(t, l.dial("admin"), 24, 80)
	tm.Send("set cli pagination off\nshow license UDI\nshow version active\n")
	tm.Expect("admin:set cli pagination off\r\nAutomatic pagination is turned off\r\nadmin:show license UDI\r\nUDI: ")
	tm.Expect("\r\nadmin:show version active\r\nActive Master Version: ")
	tm.Expect("admin:")
	long := `license smart reservation install "` + strings.Repeat("QUJDREVGR0g=", 400) + `"`
	tm.Send(long + "\r\n")
	got := tm.Expect("Executed command unsuccessfully\r\nadmin:")
	if !strings.HasPrefix(got, long+"\r\n") {
		t.Fatalf("the echo of a %d-byte line is not intact: %q...", len(long), got[:min(len(got), 200)])
	}
	tm.Send("quit\n")
	tm.exit()
}

func TestServeShellWithoutPTY(t *testing.T) {
	l := startServe(t)
	c := l.dial("admin")
	s2, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	s2.Stdin = strings.NewReader("show license UDI\n\nshow licence\n")
	var b strings.Builder
	s2.Stdout = &b
	if err := s2.Shell(); err != nil {
		t.Fatal(err)
	}
	err = s2.Wait()
	var ee *ssh.ExitError
	if !errors.As(err, &ee) || ee.ExitStatus() != 1 {
		t.Fatalf("a failed command should give status 1: %v", err)
	}
	got := b.String()
	if !strings.HasPrefix(got, "Command Line Interface is starting up") || !strings.Contains(got, "8192 Mbytes RAM\n\nadmin:\nUDI: PID:UCM,SN:") ||
		!strings.Contains(got, "\nadmin:\nadmin:\nNo valid command entered") || !strings.HasSuffix(got, "Executed command unsuccessfully\nadmin:\n") || strings.Contains(got, "\r") {
		t.Fatalf("output:\n%q", got)
	}
}

func TestServeExec(t *testing.T) {
	l := startServe(t)
	c := l.dial("admin")
	if out, st := runExec(t, c, "show license UDI", ""); st != 0 || !strings.HasPrefix(out, "UDI: PID:UCM,SN:") || strings.Contains(out, "admin:") {
		t.Fatalf("%q %d", out, st)
	}
	if out, st := runExec(t, c, "show licence", ""); st != 1 || !strings.HasSuffix(out, "Executed command unsuccessfully\n") {
		t.Fatalf("%q %d", out, st)
	}
	// A failure goes to the stderr channel only, so a script's
	// REQ=$(ssh node 'license smart reservation request') never holds it.
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	s.Stdout, s.Stderr = &stdout, &stderr
	err = s.Run("license smart reservation request")
	s.Close()
	var ee *ssh.ExitError
	if !errors.As(err, &ee) || ee.ExitStatus() != 1 || stdout.Len() != 0 ||
		stderr.String() != "License reservation mode is not enabled. Enable it with license smart reservation enable.\nExecuted command unsuccessfully\n" {
		t.Fatalf("exit %v; stdout %q; stderr %q", err, stdout.String(), stderr.String())
	}
	for _, cmd := range []string{"show license status --json", "--json show license status"} {
		out, st := runExec(t, c, cmd, "")
		var v map[string]any
		if st != 0 || json.Unmarshal([]byte(out), &v) != nil {
			t.Fatalf("%s: %d %q", cmd, st, out)
		}
	}
	if out, st := runExec(t, c, "--yaml show license status", ""); st != 1 || !strings.Contains(out, "Unknown option --yaml") {
		t.Fatalf("%q %d", out, st)
	}
	// With a PTY (ssh -t), lines end in CR LF and Enter sends CR.
	s, err = c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RequestPty("xterm", 24, 80, nil); err != nil {
		t.Fatal(err)
	}
	s.Stdin = strings.NewReader("")
	if out, err := s.CombinedOutput("show version active"); err != nil || !strings.HasPrefix(string(out), "Active Master Version: 14.0.1.13900-155\r\nActive Version") {
		t.Fatalf("exec with a PTY: %v %q", err, out)
	}
	// A question is answered from standard input.
	runExec(t, c, "license smart reservation enable", "")
	if out, st := runExec(t, c, "license smart reservation return", "n\n"); !strings.Contains(out, "Continue (y/n)?\n") {
		t.Fatalf("%q %d", out, st)
	}
}

// Two admins at once: each command is one transaction, so racing for the
// same change gives one winner and one clear error; sessions keep their
// own settings and the audit log names who did what.
func TestServeConcurrentAdmins(t *testing.T) {
	l := startServe(t)
	alice, bob := l.dial("alice"), l.dial("bob")
	for round, cmd := range []string{"license smart reservation enable", "license smart reservation disable", "license smart reservation enable"} {
		var wg sync.WaitGroup
		outs := make([]string, 2)
		codes := make([]int, 2)
		start := make(chan struct{})
		for i, c := range []*ssh.Client{alice, bob} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := c.NewSession()
				if err != nil {
					t.Error(err)
					return
				}
				defer s.Close()
				<-start
				out, err := s.CombinedOutput(cmd)
				outs[i] = string(out)
				var ee *ssh.ExitError
				if errors.As(err, &ee) {
					codes[i] = ee.ExitStatus()
				}
			}()
		}
		close(start)
		wg.Wait()
		if codes[0]+codes[1] != 1 {
			t.Fatalf("round %d (%s): want one winner: %d %q / %d %q", round, cmd, codes[0], outs[0], codes[1], outs[1])
		}
		loser := outs[0]
		if codes[1] == 1 {
			loser = outs[1]
		}
		if !strings.HasSuffix(loser, "Executed command unsuccessfully\n") || strings.Count(loser, "\n") != 2 {
			t.Fatalf("round %d: the loser's answer: %q", round, loser)
		}
	}

	// Two interactive sessions typing at once.
	ta, tb := openTerm(t, alice, 40, 100), openTerm(t, bob, 40, 100)
	ta.Expect("admin:")
	tb.Expect("admin:")
	ta.Send("set cli pagination off\r")
	ta.Expect("admin:")
	var wg sync.WaitGroup
	for _, tm := range []*term{ta, tb} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				tm.Send("show license status\r")
				tm.Expect("Smart Licensing Status\r\n")
				tm.Expect("License Reservation is ENABLED\r\n") // as the last round left it
				tm.Expect("admin:")
			}
		}()
	}
	wg.Wait()
	ta.Send("show myself\r")
	if got := ta.Expect("admin:"); !strings.Contains(got, "account name    : alice\r\n") || !strings.Contains(got, "command count   : 22\r\n") || !strings.Contains(got, "pagination      : Off") {
		t.Fatalf("alice: %q", got)
	}
	tb.Send("show myself\r")
	if got := tb.Expect("admin:"); !strings.Contains(got, "account name    : bob\r\n") || !strings.Contains(got, "command count   : 21\r\n") || !strings.Contains(got, "pagination      : On") {
		t.Fatalf("bob: %q", got)
	}
	ta.Send("quit\r")
	tb.Send("quit\r")
	ta.exit()
	tb.exit()

	data, err := os.ReadFile(filepath.Join(l.state, "state.json"))
	if err != nil || !json.Valid(data) {
		t.Fatalf("state: %v\n%s", err, data)
	}
	log := l.log.String()
	for _, who := range []string{"alice", "bob"} {
		if !strings.Contains(log, `msg=command user=`+who+` addr=127.0.0.1:`) {
			t.Errorf("no audit line for %s:\n%s", who, log)
		}
	}
	if !strings.Contains(log, `command="license smart reservation enable" result=ok`) || !strings.Contains(log, `command="license smart reservation enable" result=failed`) {
		t.Errorf("audit log:\n%s", log)
	}
	if strings.Contains(log, `command="show`) {
		t.Error("reports were logged as changes")
	}
}

func TestServePasswordLogin(t *testing.T) {
	l := startServe(t)
	if err := sshd.AddUser(filepath.Join(l.state, "ssh"), "admin", []byte(labPassword), false); err != nil {
		t.Fatal(err)
	}
	c, err := ssh.Dial("tcp", l.addr, &ssh.ClientConfig{
		User: "admin", Auth: []ssh.AuthMethod{ssh.Password(labPassword)},
		HostKeyCallback: l.hostKey(), Timeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if out, st := runExec(t, c, "show myself", ""); st != 0 || !strings.Contains(out, "account name    : admin") {
		t.Fatalf("%q %d", out, st)
	}
	if !strings.Contains(l.log.String(), `msg="ssh login" user=admin addr=127.0.0.1:`) || !strings.Contains(l.log.String(), "method=password") {
		t.Fatalf("log:\n%s", l.log)
	}
}

func TestServeStartUp(t *testing.T) {
	l := startServe(t)
	out := l.out.String()
	if !strings.Contains(out, "ucmsh: new host key ssh-ed25519 SHA256:") || !strings.Contains(out, "ucmsh: host key ssh-rsa SHA256:") ||
		!strings.Contains(out, "ucmsh: serving "+l.state+" as publisher on 127.0.0.1:") {
		t.Fatalf("start-up lines:\n%s", out)
	}
	info, err := os.Stat(filepath.Join(l.state, "ssh", sshd.HostKeyFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("host key: %v %v", err, info)
	}
	fp := strings.Fields(out)[5]

	// The same key the next time; and no account means nobody logs in.
	var o, e termtest.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	empty := t.TempDir()
	os.MkdirAll(filepath.Join(empty, "ssh"), 0o700)
	os.Link(filepath.Join(l.state, "ssh", sshd.HostKeyFile), filepath.Join(empty, "ssh", sshd.HostKeyFile))
	go func() {
		done <- serve(ctx, []string{"--state", empty, "--listen", "127.0.0.1:0"}, &o, &e, func(string) { cancel() })
	}()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, e.String())
	}
	if !strings.Contains(o.String(), "ucmsh: host key ssh-ed25519 "+fp) || !strings.Contains(e.String(), "nobody can log in yet: add an account with ucmsh useradd") {
		t.Fatalf("second start:\n%s%s", o.String(), e.String())
	}
	// The RSA key this start made is OpenSSH's default size.
	pub, _ := os.ReadFile(filepath.Join(empty, "ssh", sshd.HostKeyRSAFile+".pub"))
	k, _, _, _, err := ssh.ParseAuthorizedKey(pub)
	if err != nil || !strings.Contains(o.String(), "ucmsh: new host key ssh-rsa "+ssh.FingerprintSHA256(k)) {
		t.Fatalf("the new RSA key: %v\n%s", err, o.String())
	}
	if bits := k.(ssh.CryptoPublicKey).CryptoPublicKey().(*rsa.PublicKey).N.BitLen(); bits != 3072 {
		t.Fatalf("an RSA host key of %d bits", bits)
	}

	for _, args := range [][]string{{"--listen", "0.0.0.0:2222"}, {"--listen", ":2222"}, {"--listen", "nohost"}, {"--role", "primary"}, {"--max-sessions", "0"}, {"extra"}} {
		var o, e termtest.Buffer
		if code := serve(context.Background(), append([]string{"--state", t.TempDir()}, args...), &o, &e, nil); code != 2 {
			t.Errorf("%v: exit %d", args, code)
		}
	}
	var e2 termtest.Buffer
	serve(context.Background(), []string{"--listen", "192.0.2.1:2222"}, io.Discard, &e2, nil)
	if !strings.Contains(e2.String(), "not a loopback address; add --allow-remote") {
		t.Errorf("non-loopback: %s", e2.String())
	}
}

// As OpenSSH's StrictModes: files that decide who logs in must be the
// server user's and writable by nobody else, and history and state.lock
// are never symbolic links.
func TestServeStrictModes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(state string) string // returns the path the refusal names
		want  string
	}{
		{"state folder", func(s string) string { os.Chmod(s, 0o777); return s }, " is writable by group or others (mode -rwxrwxrwx)"},
		{"ssh folder", func(s string) string { p := filepath.Join(s, "ssh"); os.Chmod(p, 0o770); return p }, " is writable by group or others"},
		{"users", func(s string) string {
			p := filepath.Join(s, "ssh", "users")
			os.WriteFile(p, nil, 0o600)
			os.Chmod(p, 0o620)
			return p
		}, " is writable by group or others"},
		{"authorized_keys", func(s string) string { p := filepath.Join(s, "ssh", "authorized_keys"); os.Chmod(p, 0o666); return p }, " is writable by group or others"},
		{"host_key", func(s string) string {
			p := filepath.Join(s, "ssh", "host_key")
			os.WriteFile(p, nil, 0o600)
			if os.Chown(p, 4242, 4242) != nil {
				os.Chmod(p, 0o606) // not root: check the mode instead
			}
			return p
		}, ""},
		{"history", func(s string) string { p := filepath.Join(s, "history"); os.Symlink("/etc/passwd", p); return p }, " is a symbolic link"},
		{"state.lock", func(s string) string {
			p := filepath.Join(s, "state.lock")
			os.Symlink(filepath.Join(s, "elsewhere"), p)
			return p
		}, " is a symbolic link"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state := t.TempDir()
			os.Chmod(state, 0o700)
			os.MkdirAll(filepath.Join(state, "ssh"), 0o700)
			os.WriteFile(filepath.Join(state, "ssh", "authorized_keys"), nil, 0o600)
			path := tc.setup(state)
			var o, e termtest.Buffer
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			code := serve(ctx, []string{"--state", state, "--listen", "127.0.0.1:0"}, &o, &e, func(string) { t.Error("serve started"); cancel() })
			if code != 1 || !strings.Contains(e.String(), "ucmsh serve: "+path+tc.want) {
				t.Fatalf("exit %d:\n%s", code, e.String())
			}
			if _, err := os.Stat(filepath.Join(state, "elsewhere")); err == nil {
				t.Fatal("the state lock was followed through its link")
			}
		})
	}
}

// The state lock is never opened through a symbolic link, by any command.
func TestStateLockIsNotFollowed(t *testing.T) {
	state := t.TempDir()
	target := filepath.Join(t.TempDir(), "planted")
	os.Symlink(target, filepath.Join(state, "state.lock"))
	cmd := exec.Command(os.Args[0], "--state", state, "-c", "license smart reservation enable")
	cmd.Env = append(os.Environ(), "UCMSH_AS_MAIN=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "cannot open the state lock") {
		t.Fatalf("%v: %s", err, out)
	}
	if _, err := os.Lstat(target); err == nil {
		t.Fatal("the link was followed: its target exists")
	}
}

// --strict: as CUCM, which has no exec requests (ssh host command fails;
// OpenSSH says "exec request failed on channel 0") and no --json; the
// interactive shell is otherwise unchanged.
func TestServeStrict(t *testing.T) {
	l := startServe(t, "--strict")
	if !strings.Contains(l.out.String(), "(strict: as CUCM, no exec requests, no --json)") {
		t.Fatalf("start-up: %s", l.out)
	}
	c := l.dial("admin")
	for _, cmd := range []string{"show license status --json", "show license UDI"} {
		s, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(cmd); err == nil || err.Error() != "ssh: command "+cmd+" failed" {
			t.Fatalf("%s: %v", cmd, err)
		}
		s.Close()
	}
	tm := openTerm(t, c, 24, 80)
	tm.Expect("admin:")
	tm.Send("show license UDI\r")
	tm.Expect("UDI: PID:UCM")
	tm.Expect("admin:")
	// --json is a word like any other: CUCM's answer to an unknown one.
	tm.Send("show license UDI --json\r")
	if got := tm.Expect("admin:"); strings.Contains(got, "{") || !strings.Contains(got, "Executed command unsuccessfully") {
		t.Fatalf("--json in strict mode: %q", got)
	}
	tm.Send("quit\r")
	tm.exit()
	if !strings.Contains(l.log.String(), `msg="ssh request refused" user=admin addr=127.0.0.1:`) || !strings.Contains(l.log.String(), "request=exec reason=strict") {
		t.Fatalf("log:\n%s", l.log)
	}
}

func TestServeLimitFlags(t *testing.T) {
	for _, args := range [][]string{{"--max-startups", "10:30"}, {"--max-startups", "10:130:100"}, {"--per-source-startups", "0"},
		{"--version-timeout", "0s"}, {"--max-failures", "0"}, {"--lockout", "-1s"}} {
		var o, e termtest.Buffer
		if code := serve(context.Background(), append([]string{"--state", t.TempDir()}, args...), &o, &e, nil); code != 2 {
			t.Errorf("%v: exit %d %s", args, code, e.String())
		}
	}
	var o termtest.Buffer
	serve(context.Background(), []string{"--help"}, &o, io.Discard, nil)
	for _, want := range []string{"--max-startups string", "(default \"10:30:100\")", "--per-source-startups int", "(default 8)", "--version-timeout duration", "(default 10s)",
		"--max-failures int", "--failure-window duration", "--lockout duration", "--max-auth-tries int", "--legacy-algorithms", "--strict"} {
		if !strings.Contains(o.String(), want) {
			t.Errorf("--help lacks %q", want)
		}
	}
}
