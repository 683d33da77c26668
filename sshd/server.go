// Package sshd is the SSH front end of ucmsh serve: host key, accounts,
// authentication, sessions (with a PTY, without one, and exec requests)
// and their limits. It knows nothing about the shell: each session is
// handed to Config.Handler with its streams and terminal size.
//
// Only password and public-key authentication are offered; port and agent
// forwarding, X11, subsystems (sftp) and channel types other than
// "session" are refused.
package sshd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/ssh"
)

// Handler runs one session and returns its exit status.
type Handler func(ctx context.Context, s *Session) int

// Config is what a Server needs. Zero limits take the defaults below.
type Config struct {
	// Dir is the ssh folder: users and authorized_keys are read from it
	// at each login, so changes apply without a restart.
	Dir     string
	HostKey ssh.Signer
	Handler Handler
	Log     *slog.Logger

	// HandshakeTimeout bounds the time from connection to login (key
	// exchange and authentication). Default 60s.
	HandshakeTimeout time.Duration
	// IdleTimeout closes a connection that sent no input for that long
	// and runs no exec command. Default 30m; negative: never.
	IdleTimeout time.Duration
	// MaxConnections bounds open connections; more are closed at once.
	// Default 100.
	MaxConnections int
	// MaxStartups bounds connections still in their handshake. Default 32.
	MaxStartups int
	// MaxSessions bounds the sessions of one connection. Default 10.
	MaxSessions int
	// MaxAuthTries bounds authentication attempts on one connection.
	// Default 6.
	MaxAuthTries int
	// FailDelay is waited after each wrong password, whether the account
	// exists or not. Default 1s.
	FailDelay time.Duration
	// MaxFailures failures from one address within FailWindow refuse it
	// for Lockout. Defaults 5, 1m, 1m.
	MaxFailures int
	FailWindow  time.Duration
	Lockout     time.Duration

	// closeGrace is how long a client may take to close a connection
	// whose shell ended before the server closes it.
	closeGrace time.Duration
}

func (c *Config) setDefaults() {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	defInt := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.HandshakeTimeout, 60*time.Second)
	def(&c.IdleTimeout, 30*time.Minute)
	def(&c.FailDelay, time.Second)
	def(&c.FailWindow, time.Minute)
	def(&c.Lockout, time.Minute)
	def(&c.closeGrace, 250*time.Millisecond)
	defInt(&c.MaxConnections, 100)
	defInt(&c.MaxStartups, 32)
	defInt(&c.MaxSessions, 10)
	defInt(&c.MaxAuthTries, 6)
	defInt(&c.MaxFailures, 5)
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// Server accepts SSH connections and runs their sessions.
type Server struct {
	cfg      Config
	log      *slog.Logger
	throttle *throttle
	startups chan struct{}
	open     atomic.Int32 // connections

	wg sync.WaitGroup
}

// New checks the configuration and returns a server.
func New(cfg Config) (*Server, error) {
	if cfg.HostKey == nil || cfg.Handler == nil || cfg.Dir == "" {
		return nil, errors.New("sshd: a host key, a handler and the ssh folder are needed")
	}
	cfg.setDefaults()
	dummy() // now, so that the first unknown account takes no longer
	return &Server{
		cfg:      cfg,
		log:      cfg.Log,
		throttle: newThrottle(cfg.MaxFailures, cfg.FailWindow, cfg.Lockout),
		startups: make(chan struct{}, cfg.MaxStartups),
	}, nil
}

// Serve accepts connections on ln until ctx ends or ln fails, then closes
// every connection and waits for their sessions to end.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		s.wg.Wait()
	}()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return err
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handle(ctx, nc)
		}()
	}
}

var errDenied = errors.New("permission denied")

func hostOf(a net.Addr) string {
	if h, _, err := net.SplitHostPort(a.String()); err == nil {
		return h
	}
	return a.String()
}

// conn is one client connection.
type conn struct {
	srv    *Server
	nc     net.Conn
	sc     *ssh.ServerConn
	ip     string
	ctx    context.Context
	cancel context.CancelFunc

	attempts atomic.Int32 // authentication attempts
	pwFailed atomic.Int32 // wrong passwords

	user, method, key string
	privilege         int

	sessions   atomic.Int32
	busy       atomic.Int32 // exec commands running
	lastActive atomic.Int64 // unix nanoseconds of the last input
	idleMu     sync.Mutex
	idle       *time.Timer
	wg         sync.WaitGroup
}

func (s *Server) handle(ctx context.Context, nc net.Conn) {
	defer nc.Close()
	addr := nc.RemoteAddr().String()
	c := &conn{srv: s, nc: nc, ip: hostOf(nc.RemoteAddr())}
	if blocked, _ := s.throttle.blocked(c.ip); blocked {
		s.log.Debug("ssh connection refused", "addr", addr, "reason", "too many authentication failures")
		return
	}
	if n := s.open.Add(1); n > int32(s.cfg.MaxConnections) {
		s.open.Add(-1)
		s.log.Warn("ssh connection refused", "addr", addr, "reason", "too many connections")
		return
	}
	defer s.open.Add(-1)
	select {
	case s.startups <- struct{}{}:
	default:
		s.log.Warn("ssh connection refused", "addr", addr, "reason", "too many logins in progress")
		return
	}
	c.ctx, c.cancel = context.WithCancel(ctx)
	defer c.cancel()
	stop := context.AfterFunc(c.ctx, func() { nc.Close() })
	defer stop()

	nc.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	sc, chans, reqs, err := ssh.NewServerConn(nc, c.serverConfig())
	<-s.startups
	if err != nil {
		if c.attempts.Load() > 0 && c.pwFailed.Load() == 0 {
			// Only keys were offered, none accepted: one failure.
			s.failed(c.ip, "", "publickey")
		}
		s.log.Debug("ssh handshake failed", "addr", addr, "err", err)
		return
	}
	nc.SetDeadline(time.Time{})
	c.sc = sc
	c.user = sc.User()
	c.method = sc.Permissions.Extensions[extMethod]
	c.key = sc.Permissions.Extensions[extKey]
	// A key in authorized_keys is the node owner's: level 4.
	c.privilege = 4
	if lv, ok := sc.Permissions.Extensions[extPrivilege]; ok {
		c.privilege, _ = strconv.Atoi(lv)
	}
	s.throttle.succeed(c.ip)
	start := time.Now()
	attrs := []any{"user", c.user, "addr", addr, "method", c.method}
	if c.key != "" {
		attrs = append(attrs, "key", c.key)
	}
	s.log.Info("ssh login", attrs...)

	go c.globalRequests(reqs)
	c.watchIdle()
	for nch := range chans {
		c.handleChannel(nch)
	}
	c.cancel()
	c.stopIdle()
	c.wg.Wait()
	s.log.Info("ssh logout", "user", c.user, "addr", addr, "duration", time.Since(start).Round(time.Millisecond))
}

// Permission extensions recording how a connection authenticated.
const (
	extMethod = "ucmsh-auth-method"
	// extKey is the fingerprint of the key that authenticated. The
	// server only trusts what it stored in the Permissions of the key
	// actually verified, never the last key offered (CVE-2024-45337).
	extKey = "ucmsh-pubkey-fp"
	// extPrivilege is the level of the password account that logged in.
	extPrivilege = "ucmsh-privilege"
)

func (c *conn) serverConfig() *ssh.ServerConfig {
	cfg := &ssh.ServerConfig{
		ServerVersion:     "SSH-2.0-ucmsh",
		MaxAuthTries:      c.srv.cfg.MaxAuthTries,
		PasswordCallback:  c.password,
		PublicKeyCallback: c.publicKey,
		VerifiedPublicKeyCallback: func(meta ssh.ConnMetadata, key ssh.PublicKey, perms *ssh.Permissions, _ string) (*ssh.Permissions, error) {
			if perms == nil || perms.Extensions[extKey] != ssh.FingerprintSHA256(key) {
				return nil, errDenied
			}
			return perms, nil
		},
	}
	cfg.AddHostKey(c.srv.cfg.HostKey)
	return cfg
}

var (
	dummyOnce sync.Once
	dummyHash []byte
)

// dummy is a hash to check passwords of unknown accounts against, so they
// take as long as wrong passwords of real ones.
func dummy() []byte {
	dummyOnce.Do(func() {
		dummyHash, _ = bcrypt.GenerateFromPassword([]byte("no such account here"), hashCost)
	})
	return dummyHash
}

func (c *conn) password(meta ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
	c.attempts.Add(1)
	if blocked, _ := c.srv.throttle.blocked(c.ip); blocked {
		return nil, errDenied
	}
	users, err := readUsers(c.srv.cfg.Dir)
	if err != nil {
		c.srv.log.Error("ssh accounts unreadable", "err", err)
	}
	u, known := users[meta.User()]
	hash := u.hash
	if !known {
		hash = dummy()
	}
	if bcrypt.CompareHashAndPassword(hash, pw) == nil && known {
		return &ssh.Permissions{Extensions: map[string]string{extMethod: "password", extPrivilege: strconv.Itoa(u.privilege)}}, nil
	}
	c.pwFailed.Add(1)
	c.srv.failed(c.ip, meta.User(), "password")
	t := time.NewTimer(c.srv.cfg.FailDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.ctx.Done():
	}
	return nil, errDenied
}

func (c *conn) publicKey(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	c.attempts.Add(1)
	if blocked, _ := c.srv.throttle.blocked(c.ip); blocked {
		return nil, errDenied
	}
	if ValidUserName(meta.User()) != nil {
		return nil, errDenied
	}
	keys, skipped, err := readAuthorizedKeys(c.srv.cfg.Dir)
	if err != nil {
		c.srv.log.Error("ssh authorized keys unreadable", "err", err)
	}
	for _, s := range skipped {
		c.srv.log.Warn("ssh authorized key skipped", "key", s)
	}
	want := key.Marshal()
	for _, k := range keys {
		if string(k.Marshal()) == string(want) {
			return &ssh.Permissions{Extensions: map[string]string{
				extMethod: "publickey",
				extKey:    ssh.FingerprintSHA256(key),
			}}, nil
		}
	}
	return nil, errDenied
}

// failed records an authentication failure from ip.
func (s *Server) failed(ip, user, method string) {
	s.log.Warn("ssh authentication failed", "user", user, "addr", ip, "method", method)
	if s.throttle.fail(ip) {
		s.log.Warn("ssh address refused", "addr", ip, "reason", "too many authentication failures", "for", s.cfg.Lockout)
	}
}

// globalRequests refuses port forwarding and everything else.
func (c *conn) globalRequests(reqs <-chan *ssh.Request) {
	for req := range reqs {
		switch req.Type {
		case "tcpip-forward", "streamlocal-forward@openssh.com":
			c.srv.log.Warn("ssh request refused", "user", c.user, "addr", c.nc.RemoteAddr().String(), "request", req.Type)
		}
		if req.WantReply {
			req.Reply(false, nil)
		}
	}
}

func (c *conn) handleChannel(nch ssh.NewChannel) {
	c.touch()
	if t := nch.ChannelType(); t != "session" {
		c.srv.log.Warn("ssh channel refused", "user", c.user, "addr", c.nc.RemoteAddr().String(), "type", t)
		reason := ssh.UnknownChannelType
		if t == "direct-tcpip" || t == "direct-streamlocal@openssh.com" || t == "x11" || t == "auth-agent@openssh.com" {
			reason = ssh.Prohibited
		}
		nch.Reject(reason, fmt.Sprintf("%s channels are not allowed", t))
		return
	}
	if c.sessions.Add(1) > int32(c.srv.cfg.MaxSessions) {
		c.sessions.Add(-1)
		nch.Reject(ssh.ResourceShortage, "too many sessions on this connection")
		return
	}
	ch, reqs, err := nch.Accept()
	if err != nil {
		c.sessions.Add(-1)
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.serveSession(ch, reqs)
	}()
}

func (c *conn) touch() { c.lastActive.Store(time.Now().UnixNano()) }

func (c *conn) watchIdle() {
	d := c.srv.cfg.IdleTimeout
	if d < 0 {
		return
	}
	c.touch()
	c.idleMu.Lock()
	c.idle = time.AfterFunc(d, c.checkIdle)
	c.idleMu.Unlock()
}

func (c *conn) stopIdle() {
	c.idleMu.Lock()
	if c.idle != nil {
		c.idle.Stop()
	}
	c.idleMu.Unlock()
}

func (c *conn) checkIdle() {
	d := c.srv.cfg.IdleTimeout
	since := time.Since(time.Unix(0, c.lastActive.Load()))
	if c.busy.Load() > 0 || since < d {
		c.idleMu.Lock()
		c.idle.Reset(max(d-since, min(d, time.Second)))
		c.idleMu.Unlock()
		return
	}
	c.srv.log.Info("ssh idle timeout", "user", c.user, "addr", c.nc.RemoteAddr().String(), "idle", d)
	c.sc.Close()
}
