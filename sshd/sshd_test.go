package sshd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/ssh"

	"github.com/ucmsh/ucmsh/internal/termtest"
)

const testPassword = "correct horse"

func TestMain(m *testing.M) {
	hashCost = bcrypt.MinCost // -race makes bcrypt very slow
	rsaBits = 2048
	os.Exit(m.Run())
}

var (
	rsaOnce sync.Once
	rsaKey  ssh.Signer
)

// testRSAKey is one RSA host key for every test server (making one takes
// a while).
func testRSAKey(t *testing.T) ssh.Signer {
	rsaOnce.Do(func() {
		keys, err := LoadHostKeys(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		rsaKey = keys[1].Signer
	})
	return rsaKey
}

type testServer struct {
	srv  *Server
	addr string
	dir  string
	key  ssh.Signer // authorized
	log  *termtest.Buffer
	stop func()
}

// testHandler: exec runs "echo WORDS", "exit N", "size", "wait" (until
// interrupted); a shell echoes lines until "quit".
func testHandler(ctx context.Context, s *Session) int {
	intr := make(chan struct{}, 1)
	s.OnInterrupt(func() { intr <- struct{}{} })
	if s.Exec {
		f := strings.Fields(s.Command)
		switch {
		case len(f) == 0:
			return 2
		case f[0] == "echo":
			fmt.Fprintf(s.Out, "%s %s %s %s\n", s.User, s.Method, s.Key, strings.Join(f[1:], " "))
		case f[0] == "exit":
			var n int
			fmt.Sscan(f[1], &n)
			return n
		case f[0] == "wait":
			select {
			case <-intr:
				fmt.Fprintln(s.Out, "interrupted")
				return 130
			case <-ctx.Done():
				return 1
			}
		}
		return 0
	}
	fmt.Fprintf(s.Out, "pty=%v term=%s\n", s.PTY, s.Term)
	sc := bufio.NewScanner(s.In)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch line {
		case "quit":
			return 0
		case "size":
			w, h := s.Size()
			fmt.Fprintf(s.Out, "%dx%d\n", w, h)
		default:
			fmt.Fprintf(s.Out, "line %q\n", line)
		}
	}
	return 0
}

func startServer(t *testing.T, cfg Config) *testServer {
	t.Helper()
	return startServerOn(t, cfg, nil)
}

// startServerOn serves on the loopback listener as wrap returns it.
func startServerOn(t *testing.T, cfg Config, wrap func(net.Listener) net.Listener) *testServer {
	t.Helper()
	dir := t.TempDir()
	if err := AddUser(dir, "admin", []byte(testPassword), false); err != nil {
		t.Fatal(err)
	}
	key, _ := termtest.SSHKey(t)
	if err := os.WriteFile(filepath.Join(dir, AuthorizedKeysFile), ssh.MarshalAuthorizedKey(key.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}
	host, _, err := LoadHostKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	lb := &termtest.Buffer{}
	cfg.Dir, cfg.HostKeys = dir, []ssh.Signer{host, testRSAKey(t)}
	if cfg.Handler == nil {
		cfg.Handler = testHandler
	}
	if cfg.FailDelay == 0 {
		cfg.FailDelay = 50 * time.Millisecond
	}
	cfg.Log = slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		ln = wrap(ln)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	ts := &testServer{srv: srv, addr: ln.Addr().String(), dir: dir, key: key, log: lb}
	var once sync.Once
	ts.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Serve: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Error("the server did not stop")
			}
		})
	}
	t.Cleanup(ts.stop)
	return ts
}

func (ts *testServer) dial(user string, auth ...ssh.AuthMethod) (*ssh.Client, error) {
	return ssh.Dial("tcp", ts.addr, &ssh.ClientConfig{
		User:            user,
		Auth:            auth,
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		Timeout:         5 * time.Second,
	})
}

// session opens a session on c: a test whose session does not start
// fails there, instead of passing without testing anything.
func session(t testing.TB, c *ssh.Client) *ssh.Session {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// pipes returns the session's input and its output, read by lines.
func pipes(t testing.TB, s *ssh.Session) (io.WriteCloser, *bufio.Reader) {
	t.Helper()
	in, err := s.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	return in, bufio.NewReader(out)
}

// ptyShell starts a shell with a rows x cols PTY on c and reads the test
// handler's greeting: the session runs.
func ptyShell(t testing.TB, c *ssh.Client, rows, cols int) (*ssh.Session, io.WriteCloser, *bufio.Reader) {
	t.Helper()
	s := session(t, c)
	if err := s.RequestPty("xterm", rows, cols, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	return startShell(t, s, "pty=true term=xterm\n")
}

// plainShell opens a shell without a PTY, as scripts do, and reads its greeting.
func plainShell(t testing.TB, c *ssh.Client) (*ssh.Session, io.WriteCloser, *bufio.Reader) {
	t.Helper()
	return startShell(t, session(t, c), "pty=false term=\n")
}

// startShell starts the shell on s and checks its greeting line.
func startShell(t testing.TB, s *ssh.Session, greeting string) (*ssh.Session, io.WriteCloser, *bufio.Reader) {
	t.Helper()
	in, r := pipes(t, s)
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	if l := readLine(t, r); l != greeting {
		t.Fatalf("greeting %q", l)
	}
	return s, in, r
}

// readLine reads one line of r, failing the test on an error.
func readLine(t testing.TB, r *bufio.Reader) string {
	t.Helper()
	l, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("read %q: %v", l, err)
	}
	return l
}

func (ts *testServer) login(t *testing.T) *ssh.Client {
	t.Helper()
	c, err := ts.dial("admin", ssh.Password(testPassword))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func run(t *testing.T, c *ssh.Client, cmd string) (string, int) {
	t.Helper()
	out, _, st := termtest.Exec(t, c, cmd, "")
	return out, st
}

func TestLoginWithPasswordOrKey(t *testing.T) {
	ts := startServer(t, Config{})
	c := ts.login(t)
	if out, st := run(t, c, "echo hi there"); out != "admin password  hi there\n" || st != 0 {
		t.Fatalf("%q %d", out, st)
	}
	if _, st := run(t, c, "exit 3"); st != 3 {
		t.Fatalf("exit status %d", st)
	}
	// Several exec requests on one connection (as paramiko does).
	if out, _ := run(t, c, "echo again"); !strings.HasSuffix(out, "again\n") {
		t.Fatal(out)
	}

	// A key login records the key that signed, not merely one offered
	// (CVE-2024-45337): the client offers a stranger's key first.
	stranger, _ := termtest.SSHKey(t)
	kc, err := ts.dial("ops", ssh.PublicKeys(stranger, ts.key))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	fp := ssh.FingerprintSHA256(ts.key.PublicKey())
	if out, _ := run(t, kc, "echo k"); out != "ops publickey "+fp+" k\n" {
		t.Fatalf("%q, want key %s", out, fp)
	}
	if !strings.Contains(ts.log.String(), "msg=\"ssh login\" user=ops") || !strings.Contains(ts.log.String(), "key="+fp) {
		t.Fatalf("log:\n%s", ts.log.String())
	}

	// A key alone does not make a bad login name good.
	if _, err := ts.dial("Bad Name", ssh.PublicKeys(ts.key)); err == nil {
		t.Fatal("an invalid login name was accepted")
	}
}

// Unknown accounts and wrong passwords get the same answer after the
// same delay; none is not offered.
func TestAuthFailuresLookAlike(t *testing.T) {
	const delay = 300 * time.Millisecond
	ts := startServer(t, Config{FailDelay: delay, MaxFailures: 100})
	try := func(user, pw string) (string, time.Duration) {
		start := time.Now()
		_, err := ts.dial(user, ssh.RetryableAuthMethod(ssh.Password(pw), 1))
		if err == nil {
			t.Fatalf("%s/%s logged in", user, pw)
		}
		return err.Error(), time.Since(start)
	}
	unknownErr, unknownTook := try("nobody", "whatever-it-is")
	wrongErr, wrongTook := try("admin", "wrong password")
	if unknownErr != wrongErr {
		t.Fatalf("different answers:\n%s\n%s", unknownErr, wrongErr)
	}
	if !strings.Contains(wrongErr, "attempted methods [none password]") {
		t.Fatalf("answer: %s", wrongErr)
	}
	if unknownTook < delay || wrongTook < delay {
		t.Fatalf("no delay: %v %v", unknownTook, wrongTook)
	}
	if d := unknownTook - wrongTook; d > delay/2 || d < -delay/2 {
		t.Fatalf("timings differ: unknown %v, wrong %v", unknownTook, wrongTook)
	}
	if _, err := ts.dial("admin"); err == nil {
		t.Fatal("no authentication was accepted")
	}
	for _, want := range []string{`msg="ssh authentication failed" user=nobody addr=127.0.0.1 method=password`, `user=admin addr=127.0.0.1 method=password`} {
		if !strings.Contains(ts.log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, ts.log.String())
		}
	}
}

func TestRepeatedFailuresAreThrottled(t *testing.T) {
	ts := startServer(t, Config{FailDelay: time.Millisecond, MaxFailures: 3, FailWindow: time.Minute, Lockout: 1500 * time.Millisecond})
	for i := 0; i < 3; i++ {
		if _, err := ts.dial("admin", ssh.Password("wrong-"+fmt.Sprint(i))); err == nil {
			t.Fatal("logged in")
		}
	}
	// Refused now, even with the right password: the connection is
	// closed at its first authentication request, after a banner.
	_, err := ts.dial("admin", ssh.Password(testPassword))
	if err == nil || strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("a throttled address got as far as authentication: %v", err)
	}
	if !strings.Contains(ts.log.String(), `msg="ssh address refused" addr=127.0.0.1`) {
		t.Fatalf("log:\n%s", ts.log.String())
	}
	time.Sleep(1600 * time.Millisecond)
	c := ts.login(t)
	run(t, c, "echo back")

	// Offering only unknown keys counts as one failure per connection.
	stranger, _ := termtest.SSHKey(t)
	for i := 0; i < 3; i++ {
		if _, err := ts.dial("admin", ssh.PublicKeys(stranger)); err == nil {
			t.Fatal("a stranger's key was accepted")
		}
	}
	time.Sleep(100 * time.Millisecond) // the server counts when it sees the connection end
	if _, err := ts.dial("admin", ssh.PublicKeys(ts.key)); err == nil {
		t.Fatal("not throttled after key failures")
	}
}

func TestIdleTimeout(t *testing.T) {
	ts := startServer(t, Config{IdleTimeout: 800 * time.Millisecond})

	// Typing keeps a session alive.
	c := ts.login(t)
	_, in, r := plainShell(t, c)
	for i := 0; i < 8; i++ {
		time.Sleep(150 * time.Millisecond)
		fmt.Fprintf(in, "key %d\n", i)
		if l, err := r.ReadString('\n'); err != nil || !strings.Contains(l, "key") {
			t.Fatalf("%q %v", l, err)
		}
	}
	// Then nothing: the connection goes.
	start := time.Now()
	if !termtest.Closes(c, 3*time.Second) {
		t.Fatal("an idle connection stayed open")
	}
	if took := time.Since(start); took < 700*time.Millisecond {
		t.Fatalf("closed after %v", took)
	}
	if !strings.Contains(ts.log.String(), `msg="ssh idle timeout" user=admin`) {
		t.Fatalf("log:\n%s", ts.log.String())
	}

	// A running exec command is not idle.
	c2 := ts.login(t)
	s2 := session(t, c2)
	defer s2.Close()
	o2, err := s2.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Start("wait"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if err := s2.Signal(ssh.SIGINT); err != nil {
		t.Fatalf("the connection went while a command ran: %v", err)
	}
	b, err := io.ReadAll(o2)
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Wait(); string(b) != "interrupted\n" || err == nil || err.(*ssh.ExitError).ExitStatus() != 130 {
		t.Fatalf("%q %v", b, err)
	}
}

func TestHandshakeTimeout(t *testing.T) {
	ts := startServer(t, Config{HandshakeTimeout: 200 * time.Millisecond})
	nc, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	start := time.Now()
	_, err = io.Copy(io.Discard, nc) // the server's banner, then EOF
	if err != nil || time.Since(start) > 2*time.Second {
		t.Fatalf("a silent client was not dropped: %v after %v", err, time.Since(start))
	}
}

func TestPTYWindowAndQuit(t *testing.T) {
	ts := startServer(t, Config{})
	c := ts.login(t)
	s, in, r := ptyShell(t, c, 30, 100)
	fmt.Fprintln(in, "size")
	if l := readLine(t, r); l != "100x30\n" {
		t.Fatal(l)
	}
	if err := s.WindowChange(40, 132); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	fmt.Fprintln(in, "size")
	if l := readLine(t, r); l != "132x40\n" {
		t.Fatal(l)
	}
	// quit: exit status 0, and the connection closes.
	fmt.Fprintln(in, "quit")
	if err := s.Wait(); err != nil {
		t.Fatalf("exit: %v", err)
	}
	if !termtest.Closes(c, 10*time.Second) {
		t.Fatal("the connection stayed open after quit")
	}

	// An empty exec request reaches the handler (exit 2 from it).
	c2 := ts.login(t)
	s2 := session(t, c2)
	s2.Stdin = strings.NewReader("hello\n")
	b, err := s2.Output("")
	var ee *ssh.ExitError
	if !errors.As(err, &ee) || ee.ExitStatus() != 2 || len(b) != 0 {
		t.Fatalf("empty exec: %v %q", err, b)
	}
	// Without a PTY the shell says so.
	s3 := session(t, c2)
	s3.Stdin = strings.NewReader("size\nquit\n")
	var o strings.Builder
	s3.Stdout = &o
	if err := s3.Shell(); err != nil {
		t.Fatal(err)
	}
	if err := s3.Wait(); err != nil {
		t.Fatalf("quit: %v", err)
	}
	if o.String() != "pty=false term=\n80x24\n" {
		t.Fatalf("%q", o.String())
	}
}

func TestRefusals(t *testing.T) {
	ts := startServer(t, Config{MaxSessions: 2})
	c := ts.login(t)
	if _, err := c.Dial("tcp", ts.addr); err == nil {
		t.Error("port forwarding (direct-tcpip) was allowed")
	}
	if _, err := c.Listen("tcp", "127.0.0.1:0"); err == nil {
		t.Error("remote port forwarding (tcpip-forward) was allowed")
	}
	if _, _, err := c.OpenChannel("x-custom", nil); err == nil {
		t.Error("an unknown channel type was accepted")
	} else if oe, ok := err.(*ssh.OpenChannelError); !ok || oe.Reason != ssh.UnknownChannelType {
		t.Errorf("unknown channel: %v", err)
	}
	s := session(t, c)
	if err := s.RequestSubsystem("sftp"); err == nil {
		t.Error("the sftp subsystem was started")
	}
	for _, req := range []string{"auth-agent-req@openssh.com", "x11-req", "env"} {
		if ok, err := s.SendRequest(req, true, nil); ok || err != nil {
			t.Errorf("%s: %v %v", req, ok, err)
		}
	}
	// Two sessions at most on one connection.
	s2, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.NewSession(); err == nil {
		t.Error("a third session was opened")
	}
	s2.Close()
	s.Close()
	time.Sleep(50 * time.Millisecond)
	if _, st := run(t, c, "echo again"); st != 0 {
		t.Error("closed sessions still count")
	}
	log := ts.log.String()
	for _, want := range []string{`request="subsystem sftp"`, `type=direct-tcpip`, `request=tcpip-forward`, `request=auth-agent-req@openssh.com`} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s", want)
		}
	}
}

func TestMaxConnections(t *testing.T) {
	ts := startServer(t, Config{MaxConnections: 2})
	ts.login(t)
	ts.login(t)
	if _, err := ts.dial("admin", ssh.Password(testPassword)); err == nil {
		t.Fatal("a third connection was accepted")
	}
}

// Sessions end with the server, and nothing is left running: neither
// shells, nor connections without a session, nor connections with
// several.
func TestShutdownLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	ts := startServer(t, Config{})
	var clients []*ssh.Client
	for i := 0; i < 5; i++ {
		c := ts.login(t)
		ptyShell(t, c, 24, 80) // the session runs: its handler has greeted
		clients = append(clients, c)
	}
	clients = append(clients, ts.login(t)) // logged in, no session
	several := ts.login(t)
	ptyShell(t, several, 24, 80)
	plainShell(t, several)
	clients = append(clients, several)
	ts.stop()
	for _, c := range clients {
		c.Wait()
	}
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// Logins that complete while the server stops are closed too: Serve
// returns and every client sees its connection end, whichever way each
// login and the stop cross (a handshake under way is closed through its
// context, a logged-in connection by Serve).
func TestShutdownDuringLogins(t *testing.T) {
	deadline := time.Now().Add(8 * time.Second)
	for round := 0; round < 30 && time.Now().Before(deadline) && !t.Failed(); round++ {
		ts := startServer(t, Config{})
		clients := make(chan *ssh.Client, 8)
		var wg sync.WaitGroup
		for range cap(clients) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if c, err := ts.dial("admin", ssh.PublicKeys(ts.key)); err == nil {
					clients <- c
					c.Wait() // until the server closes it
				}
			}()
		}
		time.Sleep(time.Duration(round%6) * time.Millisecond)
		ts.stop() // fails the test if Serve does not return
		ended := make(chan struct{})
		go func() { wg.Wait(); close(ended) }()
		select {
		case <-ended:
		case <-time.After(5 * time.Second):
			t.Errorf("round %d: a connection outlived the server", round)
		}
		for done := false; !done; {
			select {
			case c := <-clients:
				c.Close()
			case <-ended:
				done = true
			}
		}
		for len(clients) > 0 {
			(<-clients).Close()
		}
	}
}

// A client that drops its connection while a command runs ends the
// command: its context is cancelled, the connection logs out.
func TestDroppedConnectionEndsItsCommands(t *testing.T) {
	ts := startServer(t, Config{})
	c := ts.login(t)
	s := session(t, c)
	if err := s.Start("wait"); err != nil {
		t.Fatal(err)
	}
	waitFor := func(what string) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !strings.Contains(ts.log.String(), what); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in the log:\n%s", what, ts.log.String())
			}
		}
	}
	waitFor("kind=exec")
	c.Close()
	waitFor(`msg="ssh logout"`)
}

// A second Serve would close the first one's connections when it
// stops: it is refused, and the first goes on serving.
func TestServeOnce(t *testing.T) {
	ts := startServer(t, Config{})
	c := ts.login(t) // the first Serve is serving
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.srv.Serve(context.Background(), ln); !errors.Is(err, errServedTwice) {
		t.Fatalf("a second Serve: %v", err)
	}
	for _, c := range []*ssh.Client{c, ts.login(t)} {
		if out, st := run(t, c, "echo hello"); st != 0 || out != "admin password  hello\n" {
			t.Fatalf("the first Serve stopped: %q %d", out, st)
		}
	}
}

func TestHostKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ssh")
	k1, created, err := LoadHostKey(dir)
	if err != nil || !created {
		t.Fatal(err, created)
	}
	k2, created, err := LoadHostKey(dir)
	if err != nil || created || string(k1.PublicKey().Marshal()) != string(k2.PublicKey().Marshal()) {
		t.Fatal("the host key changed", err, created)
	}
	for name, mode := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, HostKeyFile): 0o600} {
		if info, _ := os.Stat(name); info.Mode().Perm() != mode {
			t.Errorf("%s: mode %v", name, info.Mode().Perm())
		}
	}
	pub, _ := os.ReadFile(filepath.Join(dir, HostKeyFile+".pub"))
	if !strings.HasPrefix(string(pub), "ssh-ed25519 ") {
		t.Errorf("host_key.pub: %q", pub)
	}
	os.Chmod(filepath.Join(dir, HostKeyFile), 0o644)
	if _, _, err := LoadHostKey(dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a readable host key was used: %v", err)
	}
}

func TestAddUser(t *testing.T) {
	dir := t.TempDir()
	if err := ValidUserName("_" + strings.Repeat("a.b-", 7) + "xyz"); err != nil {
		t.Errorf("a name of 32 characters: %v", err)
	}
	for _, bad := range []string{"", "Admin", "1abc", "a b", strings.Repeat("a", 33), "x:y"} {
		if err := AddUser(dir, bad, []byte(testPassword), false); err == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
	for _, bad := range []string{"short", strings.Repeat("p", 73), "with\nnewline"} {
		if err := AddUser(dir, "admin", []byte(bad), false); err == nil {
			t.Errorf("password %q accepted", bad)
		}
	}
	if HasAccounts(dir) {
		t.Fatal("accounts in an empty folder")
	}
	if err := AddUser(dir, "admin", []byte(testPassword), false); err != nil {
		t.Fatal(err)
	}
	if err := AddUser(dir, "ops", []byte("another password"), false); err != nil {
		t.Fatal(err)
	}
	if err := AddUser(dir, "admin", []byte("new password!"), false); !errors.Is(err, ErrUserExists) {
		t.Fatalf("existing account: %v", err)
	}
	if err := AddUser(dir, "admin", []byte("new password!"), true); err != nil {
		t.Fatal(err)
	}
	users, err := readUsers(dir)
	if err != nil || len(users) != 2 {
		t.Fatal(users, err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, UsersFile))
	if strings.Contains(string(data), "password") || !strings.Contains(string(data), "admin:$2a$") {
		t.Fatalf("users file: %s", data)
	}
	if info, _ := os.Stat(filepath.Join(dir, UsersFile)); info.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", info.Mode())
	}
	// A users file others can write is not trusted.
	os.Chmod(filepath.Join(dir, UsersFile), 0o666)
	if _, err := readUsers(dir); err == nil {
		t.Fatal("a world-writable users file was read")
	}
}

func TestAuthorizedKeysOptionsAreNotTrusted(t *testing.T) {
	dir := t.TempDir()
	k1, _ := termtest.SSHKey(t)
	k2, _ := termtest.SSHKey(t)
	data := "# admins\n" + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k1.PublicKey()))) + " alice@example\n" +
		`command="show license status" ` + string(ssh.MarshalAuthorizedKey(k2.PublicKey()))
	os.WriteFile(filepath.Join(dir, AuthorizedKeysFile), []byte(data), 0o600)
	keys, skipped, err := readAuthorizedKeys(dir)
	if err != nil || len(keys) != 1 || len(skipped) != 1 {
		t.Fatal(keys, skipped, err)
	}
}

// Accounts carry a privilege level: 4 for the first, 1 for the next unless
// told, kept when a password is replaced; a line from before levels is 4.
func TestAccountPrivilege(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(AddUser(dir, "admin", []byte(testPassword), false))
	must(AddUser(dir, "ops", []byte(testPassword), false))
	must(AddUserPrivilege(dir, "viewer", []byte(testPassword), false, 0))
	must(AddUser(dir, "ops", []byte("another password"), true))
	if err := AddUserPrivilege(dir, "root", []byte(testPassword), false, 3); err == nil {
		t.Error("level 3 accepted")
	}
	f, _ := os.OpenFile(filepath.Join(dir, UsersFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("old:$2a$10$abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabc\n")
	f.Close()
	users, err := readUsers(dir)
	must(err)
	got := fmt.Sprint(users["admin"].privilege, users["ops"].privilege, users["viewer"].privilege, users["old"].privilege)
	if got != "4 1 0 4" {
		t.Errorf("levels %s, want 4 1 0 4", got)
	}
}

// sshdGoroutines counts the goroutines this package's server started.
func sshdGoroutines() int {
	buf := make([]byte, 4<<20)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), "created by github.com/ucmsh/ucmsh/sshd.(*")
}

// An idle session costs the server two goroutines of its own: its
// connection's (channel opens, global and session requests) and its
// handler's; nothing else waits on its behalf.
func TestIdleSessionsCostTwoGoroutines(t *testing.T) {
	ts := startServer(t, Config{})
	before := sshdGoroutines()
	const n = 8
	for range n {
		ptyShell(t, ts.login(t), 24, 80)
	}
	if got := sshdGoroutines() - before; got > 2*n {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines for %d idle sessions, want at most %d:\n%s", got, n, 2*n, buf[:runtime.Stack(buf, true)])
	}
}

// A client that stops reading holds up the answers to its own requests,
// nobody else's: another client logs in, opens a session and has its
// requests answered meanwhile.
func TestStalledClientHoldsUpOnlyItself(t *testing.T) {
	held := make(chan *heldConn, 4)
	ts := startServerOn(t, Config{}, func(ln net.Listener) net.Listener { return &holdingListener{ln, held} })
	a, err := ts.dial("admin", ssh.PublicKeys(ts.key))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	sa, _, _ := ptyShell(t, a, 24, 80)
	ac := <-held
	release := ac.hold()
	t.Cleanup(release)        // before the server stops
	go sa.Setenv("LANG", "C") // its answer cannot be written
	select {
	case <-ac.blocked:
	case <-time.After(5 * time.Second):
		t.Fatal("the held connection's answer was never written")
	}

	done := make(chan error, 1)
	go func() {
		b, err := ts.dial("admin", ssh.PublicKeys(ts.key))
		if err != nil {
			done <- err
			return
		}
		defer b.Close()
		sb, err := b.NewSession()
		if err == nil {
			err = sb.RequestPty("xterm", 24, 80, ssh.TerminalModes{})
		}
		if err == nil && sb.Setenv("LANG", "C") == nil {
			err = errors.New("env accepted")
		}
		if err == nil {
			_, _, err = b.SendRequest("keepalive@openssh.com", true, nil)
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a stalled client held up another's session")
	}
}

// holdingListener hands the test each connection it accepts, whose
// writes it can hold.
type holdingListener struct {
	net.Listener
	conns chan *heldConn
}

func (l *holdingListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	c := &heldConn{Conn: nc, blocked: make(chan struct{}, 1), release: make(chan struct{})}
	select {
	case l.conns <- c:
	default:
	}
	return c, nil
}

// heldConn is a server's socket whose writes wait, once held, as if the
// client had stopped reading and the network's buffers were full.
type heldConn struct {
	net.Conn
	held    atomic.Bool
	blocked chan struct{} // a write waits
	release chan struct{}
	once    sync.Once
}

func (c *heldConn) hold() (release func()) {
	c.held.Store(true)
	return func() { c.once.Do(func() { close(c.release) }) }
}

func (c *heldConn) Write(p []byte) (int, error) {
	if c.held.Load() {
		select {
		case c.blocked <- struct{}{}:
		default:
		}
		<-c.release
	}
	return c.Conn.Write(p)
}

// A handler may let its session go on without it (Detach): what it
// returns is ignored, and the session ends, with its exit status, when
// the end Detach gave is called from another goroutine; its context
// lives until then.
func TestDetachedSessionEndsWhenTold(t *testing.T) {
	ended := make(chan error, 1)
	handler := func(ctx context.Context, s *Session) int {
		end := s.Detach()
		go func() {
			b := make([]byte, 64)
			n, _ := s.In.Read(b) // after the handler has returned
			ended <- ctx.Err()
			fmt.Fprintf(s.Out, "got %q\n", b[:n])
			end(7)
		}()
		return 0
	}
	ts := startServer(t, Config{Handler: handler})
	c := ts.login(t)
	s := session(t, c)
	in, _ := s.StdinPipe()
	var out strings.Builder
	s.Stdout = &out
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the handler has returned by now
	fmt.Fprint(in, "hi")
	if err := <-ended; err != nil {
		t.Fatalf("the detached session's context ended with its handler: %v", err)
	}
	var ee *ssh.ExitError
	if err := s.Wait(); !errors.As(err, &ee) || ee.ExitStatus() != 7 {
		t.Fatalf("exit: %v, want status 7", err)
	}
	if out.String() != "got \"hi\"\n" {
		t.Fatalf("output %q", out.String())
	}
	if !termtest.Closes(c, 10*time.Second) {
		t.Fatal("the connection stayed open after its only shell ended")
	}
}
