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
		runner := n.runner()
		addr := s.RemoteAddr.String()
		runner.Audit = func(path string, ok bool) {
			result := "ok"
			if !ok {
				result = "failed"
			}
			log.Info("command", "user", s.User, "addr", addr, "command", path, "result", result)
		}
		var ed shell.Editor
		switch {
		case s.Exec && s.PTY:
			// ssh -t host 'command': plain lines from a terminal
			// with no driver between us and it.
			ed = shell.NewPlain(shell.NewCRReader(s.In), shell.NewCRLFWriter(s.Out), false)
		case s.PTY:
			ed = shell.NewRemote(s.In, s.Out, s.Size)
		default:
			ed = shell.NewPlain(s.In, s.Out, !s.Exec)
		}
		sess := runner.Session(shell.Config{Editor: ed, User: s.User, Privilege: s.Privilege})
		s.OnInterrupt(sess.Interrupt)
		switch {
		case s.Exec:
			if !sess.RunLine(ctx, strings.Trim(s.Command, " \t\r\n")) {
				return 1
			}
			return 0
		case s.PTY:
			sess.Run(ctx) // leaving an interactive session is a success
			return 0
		default:
			return exitStatus(sess.Run(ctx))
		}
	}
}
