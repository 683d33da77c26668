// Package sshd is the SSH front end of ucmsh serve: host key, accounts,
// authentication, sessions (with a PTY, without one, and exec requests)
// and their limits. It knows nothing about the shell: each session is
// handed to Config.Handler with its streams and terminal size.
//
// Password, keyboard-interactive (one Password: question) and public-key
// authentication are offered; port and agent forwarding, X11, subsystems
// (sftp) and channel types other than "session" are refused. Limits
// before login follow OpenSSH: a short deadline for the version string,
// MaxStartups-style random early drop, a per-address cap on connections
// not logged in yet, and a password budget per address (throttle.go).
package sshd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/ssh"
)

// Handler runs one session and returns its exit status, unless it let the
// session go on without it (Session.Detach).
type Handler func(ctx context.Context, s *Session) int

// Config is what a Server needs. Zero limits take the defaults below
// (DefaultConfig lists them).
type Config struct {
	// Dir is the ssh folder: users and authorized_keys are read from it
	// at each login, so changes apply without a restart.
	Dir      string
	HostKeys []ssh.Signer
	Handler  Handler
	Log      *slog.Logger

	// VersionTimeout bounds the time from connection to the client's
	// version string: a client that sends nothing is gone fast. Default
	// 10s.
	VersionTimeout time.Duration
	// HandshakeTimeout bounds the time from connection to login (key
	// exchange and authentication). Default 60s.
	HandshakeTimeout time.Duration
	// IdleTimeout closes a connection whose user sent nothing for that
	// long and that runs no exec command. Default 30m; negative: never.
	IdleTimeout time.Duration
	// MaxConnections bounds open connections; more are closed at once.
	// Default 100.
	MaxConnections int
	// MaxStartups refuses new connections at random while many have not
	// logged in yet (OpenSSH's MaxStartups). Default 10:30:100.
	MaxStartups Startups
	// PerSourceStartups bounds the connections of one address that have
	// not logged in yet (OpenSSH's PerSourceMaxStartups). Default 8,
	// below MaxStartups' start, so that one address alone never makes
	// the server drop others' connections.
	PerSourceStartups int
	// MaxSessions bounds the sessions of one connection. Default 10.
	MaxSessions int
	// MaxAuthTries bounds authentication attempts on one connection.
	// Default 6.
	MaxAuthTries int
	// FailDelay is waited after each wrong password, whether the account
	// exists or not. Default 1s.
	FailDelay time.Duration
	// MaxFailures wrong passwords from one address within FailWindow
	// refuse it for Lockout. Defaults 5, 1m, 1m.
	MaxFailures int
	FailWindow  time.Duration
	Lockout     time.Duration
	// CloseGrace: when a shell ended, the connection is closed once no
	// session is open and none was opened for that long. Default 2s.
	CloseGrace time.Duration
	// LogEvery: refused connections are logged once per LogEvery, with a
	// count. Default 10s.
	LogEvery time.Duration

	// Legacy also offers diffie-hellman-group14-sha1 and SHA-1 ssh-rsa
	// signatures, for old clients that pin them.
	Legacy bool
	// NoExec refuses exec requests, as CUCM does (ucmsh serve --strict).
	NoExec bool
}

// DefaultConfig is a Config with every limit at its default.
func DefaultConfig() Config {
	var c Config
	c.setDefaults()
	return c
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
	def(&c.VersionTimeout, 10*time.Second)
	def(&c.HandshakeTimeout, 60*time.Second)
	def(&c.IdleTimeout, 30*time.Minute)
	def(&c.FailDelay, time.Second)
	def(&c.FailWindow, time.Minute)
	def(&c.Lockout, time.Minute)
	def(&c.CloseGrace, 2*time.Second)
	def(&c.LogEvery, 10*time.Second)
	defInt(&c.MaxConnections, 100)
	defInt(&c.PerSourceStartups, 8)
	defInt(&c.MaxSessions, 10)
	defInt(&c.MaxAuthTries, 6)
	defInt(&c.MaxFailures, 5)
	if c.MaxStartups == (Startups{}) {
		c.MaxStartups = DefaultStartups
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// Server accepts SSH connections and runs their sessions.
type Server struct {
	cfg       Config
	log       *slog.Logger
	throttle  *throttle
	admission *admission
	refusals  *refusals
	hostKeys  []ssh.Signer
	// The algorithms offered, the same for every connection (x/crypto
	// copies what it keeps of them).
	algos      ssh.Config
	pubkeyAuth []string
	open       atomic.Int32 // connections
	served     atomic.Bool

	// The logged-in connections, closed when Serve stops (an entry costs
	// less than a connection watching the server's end would).
	connsMu  sync.Mutex
	conns    map[*conn]struct{}
	stopping bool

	wg sync.WaitGroup
}

// New checks the configuration and returns a server.
func New(cfg Config) (*Server, error) {
	if len(cfg.HostKeys) == 0 || cfg.Handler == nil || cfg.Dir == "" {
		return nil, errors.New("sshd: a host key, a handler and the ssh folder are needed")
	}
	cfg.setDefaults()
	var keys []ssh.Signer
	for _, k := range cfg.HostKeys {
		s, err := hostSigner(k, cfg.Legacy)
		if err != nil {
			return nil, err
		}
		keys = append(keys, s)
	}
	dummy() // now, so that the first unknown account takes no longer
	ref := newRefusals(cfg.Log, cfg.LogEvery)
	algos, pubkeyAuth := algorithms(cfg.Legacy)
	return &Server{
		algos:      algos,
		pubkeyAuth: pubkeyAuth,
		cfg:        cfg,
		log:        cfg.Log,
		throttle:   newThrottle(cfg.MaxFailures, cfg.FailWindow, cfg.Lockout),
		admission:  newAdmission(cfg.MaxStartups, cfg.PerSourceStartups),
		refusals:   ref,
		hostKeys:   keys,
	}, nil
}

// Serve accepts connections on ln until ctx ends or ln fails, then closes
// every connection and waits for their sessions to end. A Server serves
// once: its connections and limits are those of one listener.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.served.Swap(true) {
		ln.Close()
		return errServedTwice
	}
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		s.closeAll()
		s.wg.Wait()
		s.refusals.stop()
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
			// The logged-in connection runs on a goroutine of its own, so
			// that the handshake's deep stack (key exchange, signatures,
			// bcrypt) is given back, not held while the session idles.
			if w := s.handle(ctx, nc); w != nil {
				go w.wait()
			}
		}()
	}
}

// loggedIn counts c among the connections Serve closes when it stops;
// false if it is stopping.
func (s *Server) loggedIn(c *conn) bool {
	s.connsMu.Lock()
	defer s.connsMu.Unlock()
	if s.stopping {
		return false
	}
	if s.conns == nil {
		s.conns = make(map[*conn]struct{})
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) loggedOut(c *conn) {
	s.connsMu.Lock()
	delete(s.conns, c)
	s.connsMu.Unlock()
}

// closeAll closes every logged-in connection; the library then ends its
// channels, and the connection's waiter with them.
func (s *Server) closeAll() {
	s.connsMu.Lock()
	defer s.connsMu.Unlock()
	s.stopping = true
	for c := range s.conns {
		c.nc.Close()
	}
}

var (
	errDenied      = errors.New("permission denied")
	errServedTwice = errors.New("sshd: Serve called again on a server that has served")
)

func hostOf(a net.Addr) string {
	if h, _, err := net.SplitHostPort(a.String()); err == nil {
		return h
	}
	return a.String()
}

// conn is one client connection.
type conn struct {
	srv *Server
	nc  net.Conn
	cc  *clientConn
	sc  *ssh.ServerConn
	ip  string
	// authCtx ends with the handshake or the server: it bounds waits in
	// authentication. A logged-in connection keeps no context of its
	// own (one costs half a kilobyte an idle session need not hold):
	// Serve closes it when it stops, its sessions derive theirs from
	// srvCtx.
	authCtx context.Context
	srvCtx  context.Context
	closed  atomic.Bool // the connection has ended

	attempts atomic.Int32 // authentication attempts
	pwFailed atomic.Int32 // wrong passwords

	user, method, key string
	privilege         int

	sessions   atomic.Int32
	opened     atomic.Int64 // sessions ever opened
	shellEnded atomic.Bool
	busy       atomic.Int32 // exec commands running
	lastActive atomic.Int64 // unix nanoseconds of the last input
	idleMu     sync.Mutex
	idle       *time.Timer
	wg         sync.WaitGroup
}

// clientConn is the client's socket as the SSH library sees it. Until the
// version string has come, reads have the short version deadline; then
// the handshake deadline. After hangUp, the next write (the banner that
// says why) is the last.
type clientConn struct {
	net.Conn
	gotVersion bool // read by the library's one reader goroutine
	handshake  time.Time
	hangUp     atomic.Bool
}

func (c *clientConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if !c.gotVersion && bytes.IndexByte(p[:n], '\n') >= 0 {
		c.gotVersion = true
		c.Conn.SetDeadline(c.handshake)
	}
	return n, err
}

func (c *clientConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if c.hangUp.Load() {
		c.Conn.Close()
	}
	return n, err
}

// refuse tells a client why before the version exchange (RFC 4253 allows
// other lines first) and hangs up; the refusal is logged in a count.
func (s *Server) refuse(nc net.Conn, reason, line string) {
	s.refusals.note(reason, hostOf(nc.RemoteAddr()))
	nc.SetWriteDeadline(time.Now().Add(time.Second))
	io.WriteString(nc, line+"\r\n")
	// Read what the client sent (its version string comes at once), so
	// that closing sends no reset that would lose the line; briefly, so
	// that a flood of refusals holds nothing long.
	nc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if tc, ok := nc.(interface{ CloseWrite() error }); ok {
		tc.CloseWrite()
		io.Copy(io.Discard, io.LimitReader(nc, 64<<10))
	}
}

// handle runs the handshake; once the client is in, it returns the
// waiter that serves the connection until it ends.
func (s *Server) handle(ctx context.Context, nc net.Conn) *waiter {
	in := false
	defer func() {
		if !in {
			nc.Close()
		}
	}()
	begun := time.Now()
	addr := nc.RemoteAddr().String()
	c := &conn{srv: s, nc: nc, ip: hostOf(nc.RemoteAddr())}
	// A locked-out address still gets its key exchange (within the
	// limits below), so that the banner can tell it why: clients show
	// a banner, few show lines before the version string.
	switch reason, ok := s.admission.enter(c.ip); {
	case !ok && reason == reasonPerSource:
		s.refuse(nc, reason, fmt.Sprintf(msgRefusedPerSource, c.ip))
		return nil
	case !ok:
		s.refuse(nc, reason, msgRefusedStartups)
		return nil
	}
	var leaveOnce sync.Once
	leave := func() { leaveOnce.Do(func() { s.admission.leave(c.ip) }) }
	defer leave()
	if n := s.open.Add(1); n > int32(s.cfg.MaxConnections) {
		s.open.Add(-1)
		s.refuse(nc, reasonFull, msgRefusedFull)
		return nil
	}
	authCtx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(authCtx, func() { nc.Close() })
	c.authCtx, c.srvCtx = authCtx, ctx
	end := func() {
		s.open.Add(-1)
		nc.Close()
	}
	defer func() {
		stop()
		cancel()
		c.authCtx = nil
		if !in {
			end()
		}
	}()

	c.cc = &clientConn{Conn: nc, handshake: begun.Add(s.cfg.HandshakeTimeout)}
	if s.cfg.VersionTimeout < s.cfg.HandshakeTimeout {
		nc.SetDeadline(begun.Add(s.cfg.VersionTimeout))
	} else {
		c.cc.gotVersion = true
		nc.SetDeadline(c.cc.handshake)
	}
	sc, chans, reqs, err := ssh.NewServerConn(c.cc, c.serverConfig())
	leave()
	if err != nil {
		if c.attempts.Load() > 0 && c.pwFailed.Load() == 0 && !c.cc.hangUp.Load() {
			// Only keys were offered, none accepted: one failure.
			s.failed(c.ip, "", "publickey", s.throttle.fail(c.ip))
		}
		s.log.Debug("ssh handshake failed", "addr", addr, "err", err)
		return nil
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
	// The library keeps the Permissions as long as the connection; what
	// is needed of them is copied.
	sc.Permissions.Extensions = nil
	start := time.Now()
	attrs := []any{"user", c.user, "addr", addr, "method", c.method}
	if c.key != "" {
		attrs = append(attrs, "key", c.key)
	}
	s.log.Info("ssh login", attrs...)

	in = true
	// Counted in while the handshake's context still closes the socket
	// when the server stops (the deferred stop lets it go after), so no
	// stop falls between the two; one under way closes it here.
	if !s.loggedIn(c) {
		nc.Close() // the waiter sees the connection end at once
	}
	c.watchIdle()
	s.wg.Add(1)
	return &waiter{c: c, chans: chans, global: reqs, done: func() {
		c.closed.Store(true)
		c.stopIdle()
		c.wg.Wait()
		s.loggedOut(c)
		s.log.Info("ssh logout", "user", c.user, "addr", addr, "duration", time.Since(start).Round(time.Millisecond))
		end()
		s.wg.Done()
	}}
}

// seconds rounds a wait up to whole seconds, at least 1.
func seconds(d time.Duration) int { return max(1, int((d+time.Second-1)/time.Second)) }

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
		Config:                      c.srv.algos,
		PublicKeyAuthAlgorithms:     c.srv.pubkeyAuth,
		ServerVersion:               "SSH-2.0-ucmsh",
		MaxAuthTries:                c.srv.cfg.MaxAuthTries,
		PasswordCallback:            c.password,
		KeyboardInteractiveCallback: c.keyboardInteractive,
		PublicKeyCallback:           c.publicKey,
		BannerCallback:              c.banner,
		VerifiedPublicKeyCallback: func(meta ssh.ConnMetadata, key ssh.PublicKey, perms *ssh.Permissions, _ string) (*ssh.Permissions, error) {
			if perms == nil || perms.Extensions[extKey] != ssh.FingerprintSHA256(key) {
				return nil, errDenied
			}
			return perms, nil
		},
	}
	for _, k := range c.srv.hostKeys {
		cfg.AddHostKey(k)
	}
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
	return c.checkPassword(meta.User(), pw, "password")
}

// keyboardInteractive asks one Password: question with echo off, and
// checks the answer as a password.
func (c *conn) keyboardInteractive(meta ssh.ConnMetadata, ask ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
	if blocked, left := c.srv.throttle.blocked(c.ip); blocked {
		return nil, c.lockedOut(left)
	}
	answers, err := ask("", "", []string{kbdPasswordPrompt}, []bool{false})
	if err != nil {
		return nil, err // the client went away or sent garbage
	}
	var pw []byte
	if len(answers) == 1 {
		pw = []byte(answers[0])
	}
	return c.checkPassword(meta.User(), pw, "keyboard-interactive")
}

// checkPassword checks one password within the address's budget; unknown
// accounts and wrong passwords take the same time and get the same answer.
func (c *conn) checkPassword(user string, pw []byte, method string) (*ssh.Permissions, error) {
	c.attempts.Add(1)
	done, left, err := c.srv.throttle.begin(c.authCtx, c.ip)
	if err != nil {
		return nil, errDenied
	}
	if done == nil {
		return nil, c.lockedOut(left)
	}
	users, err := readUsers(c.srv.cfg.Dir)
	if err != nil {
		c.srv.log.Error("ssh accounts unreadable", "err", err)
	}
	u, known := users[user]
	hash := u.hash
	if !known {
		hash = dummy()
	}
	if bcrypt.CompareHashAndPassword(hash, pw) == nil && known {
		done(false)
		return &ssh.Permissions{Extensions: map[string]string{extMethod: method, extPrivilege: strconv.Itoa(u.privilege)}}, nil
	}
	c.pwFailed.Add(1)
	// The place in the budget is held through the delay, so parallel
	// guesses are slowed too.
	t := time.NewTimer(c.srv.cfg.FailDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.authCtx.Done():
	}
	locked := done(true)
	c.srv.failed(c.ip, user, method, locked)
	if locked {
		return nil, c.lockedOut(c.srv.cfg.Lockout)
	}
	return nil, errDenied
}

// banner is sent before the first authentication answer: to a
// locked-out address, why it is refused (then the server hangs up).
func (c *conn) banner(ssh.ConnMetadata) string {
	blocked, left := c.srv.throttle.blocked(c.ip)
	if !blocked {
		return ""
	}
	c.srv.refusals.note(reasonLockedOut, c.ip)
	c.cc.hangUp.Store(true)
	return fmt.Sprintf(msgTooManyFailures, c.ip, seconds(left)) + "\r\n"
}

// lockedOut tells the client why it is refused, then hangs up.
func (c *conn) lockedOut(left time.Duration) error {
	c.cc.hangUp.Store(true)
	return &ssh.BannerError{Err: errDenied, Message: fmt.Sprintf(msgTooManyFailures, c.ip, seconds(left)) + "\r\n"}
}

func (c *conn) publicKey(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	c.attempts.Add(1)
	if blocked, left := c.srv.throttle.blocked(c.ip); blocked {
		return nil, c.lockedOut(left)
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

// failed logs an authentication failure from ip, and the lockout it
// caused.
func (s *Server) failed(ip, user, method string, locked bool) {
	s.log.Warn("ssh authentication failed", "user", user, "addr", ip, "method", method)
	if locked {
		s.log.Warn("ssh address refused", "addr", ip, "reason", reasonLockedOut, "for", s.cfg.Lockout)
	}
}

// waiter waits for a connection's next event: a channel open, a global
// request, or a request of one of its sessions.
type waiter struct {
	c        *conn
	chans    <-chan ssh.NewChannel
	global   <-chan *ssh.Request
	sessions []*openSession
	done     func() // once the connection has ended and its sessions with it
}

// wait answers the connection's next event, then hands the waiting on
// to a fresh goroutine and returns. Answering writes to the client, down
// x/crypto's deep write path, and a goroutine's stack never shrinks
// below what it once used; waiting on a fresh one keeps an idle
// connection's goroutine at the smallest stack. A goroutine costs a
// microsecond, events are few (a channel open, pty-req, shell, window
// changes, keep-alives).
func (w *waiter) wait() {
	if w.next() {
		go w.wait()
		return
	}
	for _, ss := range w.sessions {
		ss.ended()
	}
	w.done()
}

// next waits for one event and answers it; false once the connection has
// ended. With one session at most (nearly every client) it is a plain
// select, which waits with a small stack; connections that multiplex
// sessions (ControlMaster, asyncssh) wait in reflect.Select.
func (w *waiter) next() bool {
	var reqs <-chan *ssh.Request
	switch len(w.sessions) {
	case 0:
	case 1:
		reqs = w.sessions[0].reqs
	default:
		return w.nextOfMany()
	}
	select {
	case nch, ok := <-w.chans:
		return w.channel(nch, ok)
	case req, ok := <-w.global:
		w.globalRequest(req, ok)
	case req, ok := <-reqs:
		w.sessionRequest(0, req, ok)
	}
	return true
}

func (w *waiter) nextOfMany() bool {
	cases := make([]reflect.SelectCase, 2+len(w.sessions))
	cases[0] = reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(w.chans)}
	cases[1] = reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(w.global)}
	for i, ss := range w.sessions {
		cases[2+i] = reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ss.reqs)}
	}
	i, v, ok := reflect.Select(cases)
	switch i {
	case 0:
		nch, _ := v.Interface().(ssh.NewChannel)
		return w.channel(nch, ok)
	case 1:
		req, _ := v.Interface().(*ssh.Request)
		w.globalRequest(req, ok)
	default:
		req, _ := v.Interface().(*ssh.Request)
		w.sessionRequest(i-2, req, ok)
	}
	return true
}

// channel answers a channel open; false when the connection has ended.
func (w *waiter) channel(nch ssh.NewChannel, ok bool) bool {
	if !ok {
		return false
	}
	if ss := w.c.handleChannel(nch); ss != nil {
		w.sessions = append(w.sessions, ss)
	}
	return true
}

func (w *waiter) globalRequest(req *ssh.Request, ok bool) {
	if !ok {
		w.global = nil // never chosen again
		return
	}
	w.c.globalRequest(req)
}

func (w *waiter) sessionRequest(i int, req *ssh.Request, ok bool) {
	if !ok {
		w.sessions[i].ended()
		w.sessions = slices.Delete(w.sessions, i, i+1)
		return
	}
	w.sessions[i].request(req)
}

// globalRequest refuses port forwarding and everything else.
func (c *conn) globalRequest(req *ssh.Request) {
	switch req.Type {
	case "tcpip-forward", "streamlocal-forward@openssh.com":
		c.srv.log.Warn("ssh request refused", "user", c.user, "addr", c.nc.RemoteAddr().String(), "request", req.Type)
	}
	if req.WantReply {
		req.Reply(false, nil)
	}
}

// handleChannel accepts a session channel, or refuses the channel; it
// returns the session whose requests serve then answers.
func (c *conn) handleChannel(nch ssh.NewChannel) *openSession {
	c.touch()
	if t := nch.ChannelType(); t != "session" {
		c.srv.log.Warn("ssh channel refused", "user", c.user, "addr", c.nc.RemoteAddr().String(), "type", t)
		reason := ssh.UnknownChannelType
		if t == "direct-tcpip" || t == "direct-streamlocal@openssh.com" || t == "x11" || t == "auth-agent@openssh.com" {
			reason = ssh.Prohibited
		}
		nch.Reject(reason, fmt.Sprintf("%s channels are not allowed", t))
		return nil
	}
	c.opened.Add(1)
	if c.sessions.Add(1) > int32(c.srv.cfg.MaxSessions) {
		c.sessions.Add(-1)
		nch.Reject(ssh.ResourceShortage, "too many sessions on this connection")
		return nil
	}
	ch, reqs, err := nch.Accept()
	if err != nil {
		c.sessions.Add(-1)
		return nil
	}
	return c.newSession(ch, reqs)
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
