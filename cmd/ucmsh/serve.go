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
	"syscall"
	"time"

	"github.com/ucmsh/ucmsh/internal/cli"
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

It refuses to start while the state folder, ssh/, users, authorized_keys
or a host key is writable by group or others or owned by another user, or
while history or state.lock is a symbolic link (as OpenSSH's StrictModes).
--strict behaves as CUCM does: no exec requests and no --json.
Limits and their defaults: SECURITY.md.

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
	listen                  string
	allowRemote             bool
	idle, login, version    time.Duration
	maxConns, maxSessions   int
	maxStartups             string
	perSource, maxAuthTries int
	maxFailures             int
	failWindow, lockout     time.Duration
	legacy, strict          bool
	readyFile               string
}

// serveFlags declares serve's flags into o.
func serveFlags(o *serveOptions) *pflag.FlagSet {
	fs := pflag.NewFlagSet("ucmsh serve", pflag.ContinueOnError)
	o.nodeFlags.add(fs) // the SSH host key and accounts are in the state folder's ssh/
	fs.StringVar(&o.listen, "listen", "127.0.0.1:2222", "address to listen on")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow a --listen address other than loopback")
	fs.DurationVar(&o.idle, "idle-timeout", 30*time.Minute, "close connections idle that long (0: never)")
	def := sshd.DefaultConfig()
	fs.DurationVar(&o.login, "login-timeout", def.HandshakeTimeout, "time allowed from connection to login")
	fs.DurationVar(&o.version, "version-timeout", def.VersionTimeout, "time allowed from connection to the client's SSH version string")
	fs.IntVar(&o.maxConns, "max-connections", def.MaxConnections, "most connections open at once")
	fs.IntVar(&o.maxSessions, "max-sessions", def.MaxSessions, "most sessions on one connection")
	fs.StringVar(&o.maxStartups, "max-startups", def.MaxStartups.String(), "start:rate:full: with start connections not logged in yet, refuse new ones with rate % probability, rising to all at full (OpenSSH's MaxStartups)")
	fs.IntVar(&o.perSource, "per-source-startups", def.PerSourceStartups, "most connections not logged in yet from one address")
	fs.IntVar(&o.maxAuthTries, "max-auth-tries", def.MaxAuthTries, "most authentication attempts on one connection")
	fs.IntVar(&o.maxFailures, "max-failures", def.MaxFailures, "wrong passwords from one address within --failure-window that lock it out")
	fs.DurationVar(&o.failWindow, "failure-window", def.FailWindow, "the window in which --max-failures are counted")
	fs.DurationVar(&o.lockout, "lockout", def.Lockout, "how long an address that used up its password budget is refused")
	fs.BoolVar(&o.legacy, "legacy-algorithms", false, "also offer diffie-hellman-group14-sha1 and SHA-1 ssh-rsa signatures, for old clients")
	fs.BoolVar(&o.strict, "strict", false, "behave exactly as CUCM: refuse exec requests and --json")
	fs.StringVar(&o.readyFile, "ready-file", "", "write the bound address there (JSON) once the server accepts logins, and remove it once it stops")
	return fs
}

// serve runs the server until ctx ends. ready, when set, is told the
// address it listens on.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(addr string)) int {
	var o serveOptions
	fs := serveFlags(&o)
	if code, done := parseFlags(fs, args, serveUsage, stdout, stderr); done {
		return code
	}
	fail := func(format string, a ...any) int { return failUsage(stderr, "ucmsh serve", format, a...) }
	if fs.NArg() > 0 {
		return fail("unexpected argument %q", fs.Arg(0))
	}
	if err := checkListen(o.listen, o.allowRemote); err != nil {
		return fail("%v", err)
	}
	startups, err := sshd.ParseStartups(o.maxStartups)
	if err != nil {
		return fail("%v", err)
	}
	if o.login <= 0 || o.version <= 0 || o.idle < 0 || o.maxConns <= 0 || o.maxSessions <= 0 || o.perSource <= 0 ||
		o.maxAuthTries <= 0 || o.maxFailures <= 0 || o.failWindow <= 0 || o.lockout <= 0 {
		return fail("the timeouts and limits must be positive")
	}
	node := statedir.Node(o.state)
	if err := sshd.CheckStrictModes(
		[]string{node.Dir(), node.SSH(), node.Users(), node.AuthorizedKeys(), node.HostKey(), node.HostKeyRSA(), node.InstallFileKey()},
		[]string{node.History(), node.Lock()}); err != nil {
		fmt.Fprintf(stderr, "ucmsh serve: %v\n", err)
		return 1
	}
	n, err := newServeNode(o)
	if err != nil {
		return fail("%v", err)
	}

	log := slog.New(slog.NewTextHandler(stderr, nil))
	if n.svc != nil {
		n.svc.InstallFile.Log = log // install-file logins: host, port, user, method or key
	}
	sshDir := node.SSH()
	keys, err := sshd.LoadHostKeys(sshDir)
	if err != nil {
		fmt.Fprintf(stderr, "ucmsh serve: %v\n", err)
		return 1
	}
	var signers []ssh.Signer
	for _, k := range keys {
		what := "host key"
		if k.Created {
			what = "new host key"
		}
		fmt.Fprintf(stdout, "ucmsh: %s %s %s (%s)\n", what, k.Signer.PublicKey().Type(), ssh.FingerprintSHA256(k.Signer.PublicKey()), k.Path)
		signers = append(signers, k.Signer)
	}
	if !sshd.HasAccounts(sshDir) {
		fmt.Fprintf(stderr, "ucmsh serve: nobody can log in yet: add an account with ucmsh useradd --state %s NAME, or a public key to %s\n",
			o.state, filepath.Join(sshDir, sshd.AuthorizedKeysFile))
	}
	idle := o.idle
	if idle == 0 {
		idle = -1
	}
	srv, err := sshd.New(sshd.Config{
		Dir:               sshDir,
		HostKeys:          signers,
		Handler:           n.handler(log, o.strict),
		Log:               log,
		VersionTimeout:    o.version,
		HandshakeTimeout:  o.login,
		IdleTimeout:       idle,
		MaxConnections:    o.maxConns,
		MaxStartups:       startups,
		PerSourceStartups: o.perSource,
		MaxSessions:       o.maxSessions,
		MaxAuthTries:      o.maxAuthTries,
		MaxFailures:       o.maxFailures,
		FailWindow:        o.failWindow,
		Lockout:           o.lockout,
		Legacy:            o.legacy,
		NoExec:            o.strict,
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
	mode := ""
	if o.strict {
		mode = " (strict: as CUCM, no exec requests, no --json)"
	}
	fmt.Fprintf(stdout, "ucmsh: serving %s as %s on %s%s\n", o.state, n.role, ln.Addr(), mode)
	if o.readyFile != "" {
		if err := writeServeReady(o.readyFile, ln.Addr().String()); err != nil {
			fmt.Fprintf(stderr, "ucmsh serve: cannot write the ready file: %v\n", err)
			ln.Close()
			return 1
		}
		// Gone once the server has stopped, so that nobody dials a
		// stopped server's address (a killed one cannot remove it).
		defer os.Remove(o.readyFile)
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	agentDone := make(chan struct{})
	agentCtx, stopAgent := context.WithCancel(ctx)
	go func() {
		defer close(agentDone)
		if n.svc != nil {
			n.svc.RunAgent(agentCtx, agentEvery, log)
		}
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
	local, err := cli.LoopbackListen(addr)
	if err != nil {
		return fmt.Errorf("--listen %q: %v", addr, err)
	}
	if local || allowRemote {
		return nil
	}
	return fmt.Errorf("--listen %s is not a loopback address; add --allow-remote to serve other hosts", addr)
}

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

// handler gives each SSH session its own shell and command runner.
// strict (--strict) makes every session behave as CUCM: no --json.
func (n *serveNode) handler(log *slog.Logger, strict bool) sshd.Handler {
	return func(ctx context.Context, s *sshd.Session) int {
		runner := n.runner()
		runner.Strict = strict
		runner.Audit = commands.AuditLog(log, s.User, s.RemoteAddr.String())
		cfg := shell.Config{Editor: shell.NewChannel(s.In, s.Out, s.PTY, s.Exec, s.Size), User: s.User, Privilege: s.Privilege}
		if s.Exec && !s.PTY {
			// As from OpenSSH's sshd: an exec request's failure goes to
			// stderr; under ssh -t the terminal merges the two streams.
			cfg.Err = s.Err
		}
		sess := runner.Session(cfg)
		s.OnInterrupt(sess.Interrupt)
		if s.Exec {
			return sess.ExitLine(ctx, s.Command)
		}
		// An idle shell holds no goroutine of its own while it waits at
		// the prompt (shell.Session.Start).
		sess.Start(ctx, s.Detach())
		return 0 // not used: the session ends through Detach's end
	}
}
