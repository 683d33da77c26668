package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ucmsh/ucmsh/internal/statedir"

	"github.com/spf13/pflag"
	"golang.org/x/crypto/ssh"

	"github.com/ucmsh/ucmsh/commands"
	"github.com/ucmsh/ucmsh/shell"
	"github.com/ucmsh/ucmsh/sshd"
)

const serveUsage = `Usage: ucmsh serve [flags]

Serves the node over SSH: each login gets the admin shell (interactive with
a PTY, prompts without one), and exec requests run one command and return
its exit status ("show license status --json" prints the report as JSON).
Accounts: ucmsh useradd NAME, and/or OpenSSH public keys in
<state>/ssh/authorized_keys. Renewals that fall due run in the background.
Control-C or SIGTERM stops the server.

Flags:
`

// agentEvery is how often the background agent runs what is due.
const agentEvery = time.Minute

func runServe(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, args, stdout, stderr, nil)
}

type serveOptions struct {
	nodeFlags
	listen                string
	allowRemote           bool
	idle, login           time.Duration
	maxConns, maxSessions int
}

// serve runs the server until ctx ends. ready, when set, is told the
// address it listens on.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(addr string)) int {
	var o serveOptions
	fs := pflag.NewFlagSet("ucmsh serve", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.nodeFlags.add(fs) // the SSH host key and accounts are in the state folder's ssh/
	fs.StringVar(&o.listen, "listen", "127.0.0.1:2222", "address to listen on")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow a --listen address other than loopback")
	fs.DurationVar(&o.idle, "idle-timeout", 30*time.Minute, "close connections idle that long (0: never)")
	fs.DurationVar(&o.login, "login-timeout", time.Minute, "time allowed from connection to login")
	fs.IntVar(&o.maxConns, "max-connections", 100, "most connections open at once")
	fs.IntVar(&o.maxSessions, "max-sessions", 10, "most sessions on one connection")
	readyFile := fs.String("ready-file", "", "write the bound address there (JSON) once the server accepts logins")
	help := fs.BoolP("help", "h", false, "show this help")
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "ucmsh serve: "+format+"\n", a...)
		fmt.Fprintln(stderr, "Run ucmsh serve --help for the flags.")
		return 2
	}
	if err := fs.Parse(args); err != nil {
		return fail("%v", err)
	}
	if *help {
		fmt.Fprint(stdout, serveUsage+fs.FlagUsages())
		return 0
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q", fs.Arg(0))
	}
	if err := checkListen(o.listen, o.allowRemote); err != nil {
		return fail("%v", err)
	}
	if o.login <= 0 || o.idle < 0 || o.maxConns <= 0 || o.maxSessions <= 0 {
		return fail("the timeouts and limits must be positive")
	}
	n, err := newServeNode(o)
	if err != nil {
		return fail("%v", err)
	}

	log := slog.New(slog.NewTextHandler(stderr, nil))
	if n.svc != nil {
		n.svc.InstallFile.Log = log // install-file logins: host, port, user, method or key
	}
	sshDir := statedir.Node(o.state).SSH()
	key, created, err := sshd.LoadHostKey(sshDir)
	if err != nil {
		fmt.Fprintf(stderr, "ucmsh serve: %v\n", err)
		return 1
	}
	what := "host key"
	if created {
		what = "new host key"
	}
	fmt.Fprintf(stdout, "ucmsh: %s %s %s (%s)\n", what, key.PublicKey().Type(), ssh.FingerprintSHA256(key.PublicKey()), filepath.Join(sshDir, sshd.HostKeyFile))
	if !sshd.HasAccounts(sshDir) {
		fmt.Fprintf(stderr, "ucmsh serve: nobody can log in yet: add an account with ucmsh useradd --state %s NAME, or a public key to %s\n",
			o.state, filepath.Join(sshDir, sshd.AuthorizedKeysFile))
	}
	idle := o.idle
	if idle == 0 {
		idle = -1
	}
	srv, err := sshd.New(sshd.Config{
		Dir:              sshDir,
		HostKey:          key,
		Handler:          n.handler(log),
		Log:              log,
		HandshakeTimeout: o.login,
		IdleTimeout:      idle,
		MaxConnections:   o.maxConns,
		MaxSessions:      o.maxSessions,
	})
	if err != nil {
		fmt.Fprintf(stderr, "ucmsh serve: %v\n", err)
		return 1
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		fmt.Fprintf(stderr, "ucmsh serve: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "ucmsh: serving %s as %s on %s\n", o.state, n.role, ln.Addr())
	if *readyFile != "" {
		if err := writeServeReady(*readyFile, ln.Addr().String()); err != nil {
			fmt.Fprintf(stderr, "ucmsh serve: cannot write the ready file: %v\n", err)
			ln.Close()
			return 1
		}
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	agentDone := make(chan struct{})
	agentCtx, stopAgent := context.WithCancel(ctx)
	go func() {
		defer close(agentDone)
		n.agent(agentCtx, log, agentEvery)
	}()
	err = srv.Serve(ctx, ln)
	stopAgent()
	<-agentDone
	if err != nil {
		fmt.Fprintf(stderr, "ucmsh serve: %v\n", err)
		return 1
	}
	log.Info("server stopped")
	return 0
}

// checkListen refuses addresses other than loopback unless allowed: the
// shell is an administrator's, and a lab rarely means to expose it.
func checkListen(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %q: %v", addr, err)
	}
	if allowRemote {
		return nil
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--listen %s is not a loopback address; add --allow-remote to serve other hosts", addr)
}

// serveNode is what every session of the server shares.
// serveNode is the node a server runs: unlike a shell, it creates the
// state folder and the node's state as it starts.
type serveNode struct{ *node }

func newServeNode(o serveOptions) (*serveNode, error) {
	n, err := o.open()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.state, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the state folder %s: %v", o.state, err)
	}
	if n.svc != nil {
		n.svcErr = n.svc.Init()
	}
	return &serveNode{n}, nil
}

// agent runs the licensing timers that fall due (renewals), now and then
// every period, until ctx ends.
func (n *serveNode) agent(ctx context.Context, log *slog.Logger, every time.Duration) {
	if n.svc == nil {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := n.svc.RunDue(ctx); err != nil && ctx.Err() == nil {
			log.Error("licensing agent", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// handler gives each SSH session its own shell and command runner.
func (n *serveNode) handler(log *slog.Logger) sshd.Handler {
	return func(ctx context.Context, s *sshd.Session) int {
		line, json, err := execOptions(s.Command)
		if s.Exec && err != nil {
			fmt.Fprintf(s.Out, "%v\nExecuted command unsuccessfully\n", err)
			return 2
		}
		runner := n.runner()
		addr := s.RemoteAddr.String()
		runner.JSON = json
		runner.Audit = func(path string, ok bool) {
			result := "ok"
			if !ok {
				result = "failed"
			}
			log.Info("command", "user", s.User, "addr", addr, "command", path, "result", result)
		}
		in, out := s.In, s.Out
		if s.Exec && s.PTY {
			// ssh -t host 'command': a terminal with no driver between
			// us and it: Enter sends CR, and lines must end in CR LF.
			in, out = &crReader{r: in}, shell.NewCRLFWriter(out)
		}
		sess := shell.New(shell.Config{
			In:        in,
			Out:       out,
			Banner:    commands.Banner(n.profile),
			User:      s.User,
			MaxLine:   commands.MaxCommandBytes,
			OpenQuote: commands.OpenQuote,
			Sanitize:  commands.Sanitize,
			Run: func(ctx context.Context, sh *shell.Session, line string) shell.Outcome {
				return runner.Execute(ctx, sh, line)
			},
			Complete: runner.Complete,
		})
		s.OnInterrupt(sess.Interrupt)
		switch {
		case s.Exec:
			if !sess.RunExec(ctx, line) {
				return 1
			}
			return 0
		case s.PTY:
			// Leaving an interactive session is a success.
			sess.RunInteractive(ctx, shell.TermIO{Remote: true, Size: s.Size})
			return 0
		default:
			return exitStatus(sess.RunShell(ctx))
		}
	}
}

// crReader turns the CR (or CR LF) that ends a line typed on a terminal
// into LF.
type crReader struct {
	r      io.Reader
	lastCR bool
}

func (c *crReader) Read(p []byte) (int, error) {
	for {
		n, err := c.r.Read(p)
		j := 0
		for _, b := range p[:n] {
			switch {
			case b == '\n' && c.lastCR:
				c.lastCR = false
				continue
			case b == '\r':
				c.lastCR = true
				b = '\n'
			default:
				c.lastCR = false
			}
			p[j] = b
			j++
		}
		if j > 0 || err != nil || n == 0 {
			return j, err
		}
	}
}

// execOptions takes the option an exec request's command may start or
// end with: --json prints reports as JSON. (OpenSSH's ssh reads an
// argument starting with "-" right after the host as its own option, so
// "ssh host show license status --json" is the handy spelling.)
func execOptions(cmd string) (line string, json bool, err error) {
	line = strings.Trim(cmd, " \t\r\n")
	if l, ok := strings.CutSuffix(line, " --json"); ok {
		line, json = strings.TrimRight(l, " \t"), true
	}
	for strings.HasPrefix(line, "-") {
		opt, rest, _ := strings.Cut(line, " ")
		if opt != "--json" {
			return "", false, fmt.Errorf("Unknown option %s: the only option of a command sent to run is --json.", commands.Sanitize(opt))
		}
		json = true
		line = strings.TrimLeft(rest, " \t")
	}
	return line, json, nil
}
