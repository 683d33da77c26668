// Command ssh-bench measures ucmsh serve over SSH on 127.0.0.1: the time
// from connecting to the admin: prompt (key and password logins), the
// round trip of a command typed at the prompt with many sessions at once
// (100 sessions x 100 commands by default), and the server's memory per
// idle session.
//
// The server is the real ucmsh binary (built from this checkout unless
// -ucmsh names one) running "ucmsh serve" in its own process on a fresh
// state folder, so its memory is its own; the clients are
// golang.org/x/crypto/ssh in this process. Everything is bounded by
// -timeout.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ucmsh/ucmsh/internal/statedir"

	"golang.org/x/crypto/ssh"

	"github.com/ucmsh/ucmsh/sshd"
)

const password = "bench-password-1"

type options struct {
	sessions, commands, logins, pwLogins, idle, rounds int
	command, ucmsh                                     string
	cisshgo, cisshgoMap                                string
	idleCommands, cisshgoCommands                      string
	timeout                                            time.Duration
}

func main() {
	var o options
	flag.IntVar(&o.sessions, "sessions", 100, "concurrent sessions for the round-trip test")
	flag.IntVar(&o.commands, "commands", 100, "commands per session")
	flag.IntVar(&o.logins, "logins", 200, "key logins timed one after the other")
	flag.IntVar(&o.pwLogins, "password-logins", 20, "password logins timed (bcrypt makes them slower by design)")
	flag.IntVar(&o.idle, "idle", 200, "idle sessions opened to measure memory")
	flag.StringVar(&o.idleCommands, "idle-commands", "set cli pagination off;show license all", "commands (;-separated) each session runs before it idles, for the second memory figure")
	flag.StringVar(&o.cisshgoCommands, "cisshgo-commands", "terminal length 0;show running-config", "cisshgo's commands for that figure")
	flag.IntVar(&o.rounds, "rounds", 7, "fresh servers the idle memory is measured on (the median is kept; single rounds vary by ±10 %)")
	flag.StringVar(&o.command, "command", "show license status", "the command whose round trip is timed")
	flag.StringVar(&o.ucmsh, "ucmsh", "", "ucmsh binary (default: build ./cmd/ucmsh)")
	flag.DurationVar(&o.timeout, "timeout", 3*time.Minute, "give up after this long")
	flag.StringVar(&o.cisshgo, "cisshgo", "", "a cisshgo binary: measure its memory per idle session in the same run, for comparison")
	flag.StringVar(&o.cisshgoMap, "cisshgo-map", "transcripts/transcript_map.yaml", "cisshgo's transcript map (-t)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "ssh-bench: %v\n", err)
		os.Exit(1)
	}
}

func run(o options) error {
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	tmp, err := os.MkdirTemp("", "ssh-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	bin := o.ucmsh
	if bin == "" {
		bin = filepath.Join(tmp, "ucmsh")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/ucmsh")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building ucmsh (run from the repository root, or give -ucmsh): %w", err)
		}
	}

	state, key, err := newNode(tmp, "node")
	if err != nil {
		return err
	}
	srv, err := startServer(ctx, bin, state, filepath.Join(tmp, "serve.log"), o.sessions+o.idle+50)
	if err != nil {
		return err
	}
	defer srv.stop()
	keyAuth := &ssh.ClientConfig{User: "admin", Auth: []ssh.AuthMethod{ssh.PublicKeys(key)}, HostKeyCallback: srv.hostKey, HostKeyAlgorithms: []string{ssh.KeyAlgoED25519}, Timeout: 10 * time.Second}
	pwAuth := &ssh.ClientConfig{User: "admin", Auth: []ssh.AuthMethod{ssh.Password(password)}, HostKeyCallback: srv.hostKey, HostKeyAlgorithms: []string{ssh.KeyAlgoED25519}, Timeout: 10 * time.Second}

	fmt.Printf("ssh-bench: ucmsh serve on %s, %d CPUs, %s\n", srv.addr, runtime.NumCPU(), runtime.Version())

	if err := warmUp(ctx, srv.addr, keyAuth, prompt); err != nil {
		return err
	}

	// 1. Login to prompt, one at a time.
	var keyTimes, pwTimes []time.Duration
	for i := 0; i < o.logins; i++ {
		s, d, err := login(ctx, srv.addr, keyAuth)
		if err != nil {
			return fmt.Errorf("key login %d: %w", i, err)
		}
		s.close()
		keyTimes = append(keyTimes, d)
	}
	for i := 0; i < o.pwLogins; i++ {
		s, d, err := login(ctx, srv.addr, pwAuth)
		if err != nil {
			return fmt.Errorf("password login %d: %w", i, err)
		}
		s.close()
		pwTimes = append(pwTimes, d)
	}
	fmt.Printf("login to prompt (connect, key exchange, auth, PTY, shell, banner, admin:), %d one after the other:\n", len(keyTimes))
	fmt.Printf("  public key: %s\n", summary(keyTimes))
	fmt.Printf("  password:   %s  (bcrypt cost 10, a deliberate cost)\n", summary(pwTimes))

	// 2. Memory per idle session: fresh servers, ucmsh's and cisshgo's in
	// turn, each round.
	if err := idleMemory(ctx, o, bin, tmp); err != nil {
		return err
	}

	// 3. Round trips with many sessions at once.
	sessions, err := openSessions(ctx, srv.addr, keyAuth, o.sessions)
	if err != nil {
		return fmt.Errorf("sessions: %w", err)
	}
	defer func() {
		for _, s := range sessions {
			s.close()
		}
	}()
	for _, s := range sessions {
		if _, err := s.do(ctx, "set cli pagination off"); err != nil {
			return err
		}
	}
	times := make([][]time.Duration, len(sessions))
	errs := make([]error, len(sessions))
	start := time.Now()
	var wg sync.WaitGroup
	for i, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < o.commands; j++ {
				t0 := time.Now()
				out, err := s.do(ctx, o.command)
				if err != nil {
					errs[i] = err
					return
				}
				times[i] = append(times[i], time.Since(t0))
				if o.command == "show license status" && !bytes.Contains(out, []byte("Smart Licensing Status")) {
					errs[i] = fmt.Errorf("unexpected answer: %q", out)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	all := slices.Concat(times...)
	fmt.Printf("command round trip (%q typed at the prompt, answer up to the next admin:), %d sessions x %d commands at once:\n", o.command, len(sessions), o.commands)
	fmt.Printf("  %s\n", summary(all))
	fmt.Printf("  %d commands in %s: %.0f commands/s\n", len(all), elapsed.Round(time.Millisecond), float64(len(all))/elapsed.Seconds())
	if hwm, err := srv.status("VmHWM"); err == nil {
		fmt.Printf("server peak memory (VmHWM): %d KiB\n", hwm)
	}
	for _, s := range sessions {
		s.close()
	}
	sessions = nil
	return srv.stop()
}

func summary(d []time.Duration) string {
	if len(d) == 0 {
		return "none"
	}
	s := slices.Clone(d)
	slices.Sort(s)
	pct := func(p float64) time.Duration {
		i := int(float64(len(s))*p+0.999999) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	return fmt.Sprintf("median %s, p99 %s, max %s (n=%d)", round(pct(0.5)), round(pct(0.99)), round(s[len(s)-1]), len(s))
}

func round(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}

// server is ucmsh serve in a child process.
type server struct {
	cmd     *exec.Cmd
	addr    string
	hostKey ssh.HostKeyCallback
	done    chan error
	once    sync.Once
	err     error
}

func startServer(ctx context.Context, bin, state, logFile string, maxConns int) (*server, error) {
	logf, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	// Logins come all at once from one address: lift the pre-login
	// limits that would refuse them as a flood.
	n := strconv.Itoa(maxConns)
	cmd := exec.CommandContext(ctx, bin, "serve", "--state", state, "--listen", "127.0.0.1:0", "--max-connections", n,
		"--per-source-startups", n, "--max-startups", n)
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, done: make(chan error, 1)}
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if _, a, ok := strings.Cut(lines.Text(), " on "); ok && strings.HasPrefix(lines.Text(), "ucmsh: serving") {
			s.addr = a
			break
		}
	}
	go func() {
		io.Copy(io.Discard, out)
		s.done <- cmd.Wait()
		logf.Close()
	}()
	if s.addr == "" {
		cmd.Process.Kill()
		return nil, fmt.Errorf("ucmsh serve did not start; see its log")
	}
	pub, err := os.ReadFile(statedir.Node(state).HostKey() + ".pub")
	if err != nil {
		return nil, err
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey(pub)
	if err != nil {
		return nil, err
	}
	s.hostKey = ssh.FixedHostKey(k)
	return s, nil
}

// stop asks the server to stop (SIGTERM) and checks it did so cleanly.
func (s *server) stop() error {
	s.once.Do(func() {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-s.done:
			if err != nil {
				s.err = fmt.Errorf("ucmsh serve ended with %v", err)
			}
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			s.err = errors.New("ucmsh serve did not stop on SIGTERM")
		}
	})
	return s.err
}

func (s *server) rss() (int, error) { return s.status("VmRSS") }

// status reads a kB figure from /proc/PID/status.
func (s *server) status(field string) (int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, fmt.Errorf("no %s in /proc status", field)
}

// session is a logged-in PTY session at its prompt.
type session struct {
	prompt []byte
	c      *ssh.Client
	s      *ssh.Session
	in     io.Writer
	out    io.Reader
	buf    []byte
	tmp    []byte
}

var prompt = []byte("\r\nadmin:")

// newNode makes a node's state folder with the bench's account and a key
// of its own.
func newNode(tmp, name string) (state string, key ssh.Signer, err error) {
	state = filepath.Join(tmp, name)
	sshDir := statedir.Node(state).SSH()
	if err := sshd.AddUser(sshDir, "admin", []byte(password), false); err != nil {
		return "", nil, err
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	key, _ = ssh.NewSignerFromKey(priv)
	err = os.WriteFile(filepath.Join(sshDir, sshd.AuthorizedKeysFile), ssh.MarshalAuthorizedKey(key.PublicKey()), 0o600)
	return state, key, err
}

// warmUp logs in and out a few times: the first logins create the node's
// state and bring the server's code into memory.
func warmUp(ctx context.Context, addr string, cfg *ssh.ClientConfig, want []byte) error {
	for range 5 {
		s, _, err := loginPrompt(ctx, addr, cfg, want)
		if err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
		s.close()
	}
	return nil
}

// idleMemory measures, o.rounds times, the resident memory per idle PTY
// session of a fresh ucmsh serve and, with -cisshgo, of a fresh cisshgo
// right after it, and prints the medians: sessions idle at their first
// prompt, then (on fresh servers again) sessions idle after running
// commands, since a shell an admin has used keeps what its commands
// grew.
func idleMemory(ctx context.Context, o options, bin, tmp string) error {
	for _, after := range []bool{false, true} {
		var ours, theirs []float64
		what := "at the first prompt"
		var cmds, theirCmds []string
		if after {
			cmds, theirCmds = strings.Split(o.idleCommands, ";"), strings.Split(o.cisshgoCommands, ";")
			what = fmt.Sprintf("after %q (cisshgo: %q)", cmds, theirCmds)
		}
		fmt.Printf("memory per idle PTY session %s:\n", what)
		for r := range o.rounds {
			name := fmt.Sprintf("idle-%v-%d", after, r)
			state, key, err := newNode(tmp, name)
			if err != nil {
				return err
			}
			srv, err := startServer(ctx, bin, state, filepath.Join(tmp, name+".log"), o.idle+50)
			if err != nil {
				return err
			}
			cfg := &ssh.ClientConfig{User: "admin", Auth: []ssh.AuthMethod{ssh.PublicKeys(key)}, HostKeyCallback: srv.hostKey, HostKeyAlgorithms: []string{ssh.KeyAlgoED25519}, Timeout: 10 * time.Second}
			kib, err := perIdleSession(ctx, srv, srv.addr, cfg, prompt, o.idle, cmds)
			if err := errors.Join(err, srv.stop()); err != nil {
				return fmt.Errorf("idle sessions: %w", err)
			}
			ours = append(ours, kib)
			line := fmt.Sprintf("  round %d: ucmsh %.1f KiB", r+1, kib)
			if o.cisshgo != "" {
				kib, err := cisshgoPerSession(ctx, o, tmp, theirCmds)
				if err != nil {
					return fmt.Errorf("cisshgo: %w", err)
				}
				theirs = append(theirs, kib)
				line += fmt.Sprintf(", cisshgo %.1f KiB", kib)
			}
			fmt.Println(line)
		}
		fmt.Printf("  (server RSS growth with %d idle sessions, one connection each, on a fresh server) median of %d rounds: ucmsh %.1f KiB\n",
			o.idle, o.rounds, median(ours))
		if len(theirs) > 0 {
			fmt.Printf("  cisshgo %.1f KiB per idle session in the same rounds; ucmsh/cisshgo = %.2f\n", median(theirs), median(ours)/median(theirs))
		}
	}
	return nil
}

// perIdleSession is the growth of the server's RSS, per session, when n
// PTY sessions sit idle at their prompt, after a warm-up; each session
// first runs cmds.
func perIdleSession(ctx context.Context, srv *server, addr string, cfg *ssh.ClientConfig, want []byte, n int, cmds []string) (float64, error) {
	if err := warmUp(ctx, addr, cfg, want); err != nil {
		return 0, err
	}
	time.Sleep(time.Second)
	before, err := srv.rss()
	if err != nil {
		return 0, err
	}
	idle, err := openSessionsPrompt(ctx, addr, cfg, n, want)
	if err != nil {
		return 0, err
	}
	defer func() {
		for _, s := range idle {
			s.close()
		}
	}()
	for _, s := range idle {
		for _, c := range cmds {
			if _, err := s.do(ctx, c); err != nil {
				return 0, fmt.Errorf("%s: %w", c, err)
			}
		}
	}
	time.Sleep(2 * time.Second)
	after, err := srv.rss()
	if err != nil {
		return 0, err
	}
	return float64(after-before) / float64(n), nil
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	return v[len(v)/2]
}

// cisshgoPerSession starts cisshgo with one listener (its csr1000v device,
// admin/admin) and measures its RSS per idle PTY session as for ucmsh.
// cisshgo listens on every address: run the comparison in a network
// namespace of its own (see README.md).
func cisshgoPerSession(ctx context.Context, o options, tmp string, cmds []string) (float64, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.CommandContext(ctx, o.cisshgo, "--listeners", "1", "--starting-port", strconv.Itoa(port), "-t", o.cisshgoMap)
	logf, err := os.Create(filepath.Join(tmp, "cisshgo.log"))
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	srv := &server{cmd: cmd, done: make(chan error, 1)}
	go func() { srv.done <- cmd.Wait() }()
	defer func() { cmd.Process.Kill(); <-srv.done }()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			return 0, errors.New("cisshgo did not start listening")
		}
	}
	cfg := &ssh.ClientConfig{User: "admin", Auth: []ssh.AuthMethod{ssh.Password("admin")}, HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second}
	return perIdleSession(ctx, srv, addr, cfg, []byte("cisshgo1000v>"), o.idle, cmds)
}

// login connects, opens a PTY shell and waits for the first prompt.
func login(ctx context.Context, addr string, cfg *ssh.ClientConfig) (*session, time.Duration, error) {
	return loginPrompt(ctx, addr, cfg, prompt)
}

// loginPrompt is login for a server whose prompt ends with want.
func loginPrompt(ctx context.Context, addr string, cfg *ssh.ClientConfig, want []byte) (*session, time.Duration, error) {
	t0 := time.Now()
	c, err := ssh.Dial("tcp", addr, cfg)
	if err != nil {
		return nil, 0, err
	}
	s, err := c.NewSession()
	if err != nil {
		c.Close()
		return nil, 0, err
	}
	se := &session{c: c, s: s, prompt: want, buf: make([]byte, 0, 8192), tmp: make([]byte, 4096)}
	if err := s.RequestPty("xterm", 40, 120, ssh.TerminalModes{}); err != nil {
		se.close()
		return nil, 0, err
	}
	se.in, _ = s.StdinPipe()
	se.out, _ = s.StdoutPipe()
	if err := s.Shell(); err != nil {
		se.close()
		return nil, 0, err
	}
	if _, err := se.waitPrompt(ctx); err != nil {
		se.close()
		return nil, 0, err
	}
	return se, time.Since(t0), nil
}

// openSessions logs n sessions in, ten at a time.
func openSessions(ctx context.Context, addr string, cfg *ssh.ClientConfig, n int) ([]*session, error) {
	return openSessionsPrompt(ctx, addr, cfg, n, prompt)
}

// openSessionsPrompt is openSessions for a server whose prompt ends with want.
func openSessionsPrompt(ctx context.Context, addr string, cfg *ssh.ClientConfig, n int, want []byte) ([]*session, error) {
	out := make([]*session, n)
	errs := make([]error, n)
	sem := make(chan struct{}, 10)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i], _, errs[i] = loginPrompt(ctx, addr, cfg, want)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, s := range out {
			if s != nil {
				s.close()
			}
		}
		return nil, err
	}
	return out, nil
}

// do types a command and returns the answer up to the next prompt.
func (s *session) do(ctx context.Context, cmd string) ([]byte, error) {
	if _, err := io.WriteString(s.in, cmd+"\r"); err != nil {
		return nil, err
	}
	return s.waitPrompt(ctx)
}

func (s *session) waitPrompt(ctx context.Context) ([]byte, error) {
	s.buf = s.buf[:0]
	for ctx.Err() == nil {
		n, err := s.out.Read(s.tmp)
		s.buf = append(s.buf, s.tmp[:n]...)
		if bytes.HasSuffix(s.buf, s.prompt) {
			return s.buf, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w after %q", err, s.buf)
		}
	}
	return nil, ctx.Err()
}

func (s *session) close() {
	s.s.Close()
	s.c.Close()
}
