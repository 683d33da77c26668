package sshd

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
)

// Session is one SSH session, as its Handler sees it.
type Session struct {
	User string
	// Privilege is the account's level (0, 1 or 4); 4 for a key login.
	Privilege  int
	RemoteAddr net.Addr
	// Method is how the connection authenticated: "password",
	// "keyboard-interactive" or "publickey"; Key is then the SHA256
	// fingerprint of the key.
	Method, Key string

	// PTY is set when the client asked for a terminal (Term is its
	// type); Size then follows its window changes.
	PTY  bool
	Term string
	// Exec is set for an exec request, with its Command (blanks and line
	// ends around it trimmed).
	Exec    bool
	Command string

	// In is the client's input; Out and Err its output streams. Out is
	// raw: with a PTY there is no terminal driver, so the handler writes
	// "\r\n" line ends itself.
	In  io.Reader
	Out io.Writer
	Err io.Writer

	width, height atomic.Int32
	mu            sync.Mutex
	onInterrupt   func()
	end           func(status int)
	detached      bool
}

// Detach lets the session go on after its handler returns, so that
// nothing has to wait in the handler's goroutine while the session
// idles: what the handler returns is then ignored, and the session ends
// when end is called with its exit status (once, from any goroutine).
// Only the handler's goroutine may call Detach.
func (s *Session) Detach() (end func(status int)) {
	s.detached = true
	return s.end
}

// Size is the client's window, 80x24 when it did not say.
func (s *Session) Size() (width, height int) {
	return int(s.width.Load()), int(s.height.Load())
}

// OnInterrupt sets what an interrupt (an SSH "signal" INT or "break"
// request) does.
func (s *Session) OnInterrupt(f func()) {
	s.mu.Lock()
	s.onInterrupt = f
	s.mu.Unlock()
}

func (s *Session) interrupt() {
	s.mu.Lock()
	f := s.onInterrupt
	s.mu.Unlock()
	if f != nil {
		f()
	}
}

func (s *Session) setSize(cols, rows uint32) {
	clamp := func(v uint32, def int32) int32 {
		switch {
		case v == 0:
			return def
		case v > 10000:
			return 10000
		}
		return int32(v)
	}
	s.width.Store(clamp(cols, 80))
	s.height.Store(clamp(rows, 24))
}

// Request payloads (RFC 4254).
type ptyRequest struct {
	Term          string
	Cols, Rows    uint32
	Width, Height uint32
	Modes         string
}

type windowChange struct {
	Cols, Rows    uint32
	Width, Height uint32
}

type execRequest struct{ Command string }

type signalRequest struct{ Name string }

type exitStatus struct{ Status uint32 }

// activity marks the connection active when the client sends input.
type activity struct {
	r io.Reader
	c *conn
}

func (a activity) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		a.c.touch()
	}
	return n, err
}

// openSession is one session channel: its Session and whether its handler
// has started. The connection's serve loop passes it its requests.
type openSession struct {
	c       *conn
	ch      ssh.Channel
	reqs    <-chan *ssh.Request
	s       *Session
	ctx     context.Context
	cancel  context.CancelFunc
	started bool
}

func (c *conn) newSession(ch ssh.Channel, reqs <-chan *ssh.Request) *openSession {
	ctx, cancel := context.WithCancel(c.srvCtx)
	s := &Session{User: c.user, Privilege: c.privilege, RemoteAddr: c.nc.RemoteAddr(), Method: c.method, Key: c.key}
	s.setSize(0, 0)
	return &openSession{c: c, ch: ch, reqs: reqs, s: s, ctx: ctx, cancel: cancel}
}

// request answers one request; "shell" or "exec" starts the handler in a
// goroutine of its own.
func (ss *openSession) request(req *ssh.Request) {
	c, s := ss.c, ss.s
	// Only what the user sends counts as activity: a command, not window
	// changes or keep-alives (data is counted by activity).
	ok := false
	switch req.Type {
	case "pty-req":
		var p ptyRequest
		if !ss.started && !s.PTY && ssh.Unmarshal(req.Payload, &p) == nil {
			s.PTY, s.Term, ok = true, p.Term, true
			s.setSize(p.Cols, p.Rows)
		}
	case "window-change":
		var w windowChange
		if ssh.Unmarshal(req.Payload, &w) == nil {
			s.setSize(w.Cols, w.Rows)
			ok = true
		}
	case "shell", "exec":
		if ss.started {
			break
		}
		if req.Type == "exec" && c.srv.cfg.NoExec {
			// As CUCM: no commands over exec; the client says "exec
			// request failed on channel 0".
			c.srv.log.Info("ssh request refused", "user", c.user, "addr", c.nc.RemoteAddr().String(), "request", "exec", "reason", "strict")
			break
		}
		c.touch()
		if req.Type == "exec" {
			var e execRequest
			if ssh.Unmarshal(req.Payload, &e) != nil {
				break
			}
			s.Exec, s.Command = true, strings.Trim(e.Command, " \t\r\n") // a line end a script left in
		}
		if req.WantReply {
			req.Reply(true, nil)
		}
		ss.started = true
		c.wg.Add(1)
		go c.run(ss.ctx, s, ss.ch, func() {
			ss.cancel()
			c.wg.Done()
		})
		return
	case "signal":
		var sig signalRequest
		if ssh.Unmarshal(req.Payload, &sig) == nil && sig.Name == "INT" {
			s.interrupt()
			ok = true
		}
	case "break":
		s.interrupt()
		ok = true
	case "subsystem", "x11-req", "auth-agent-req@openssh.com":
		what := req.Type
		if req.Type == "subsystem" {
			var e execRequest
			ssh.Unmarshal(req.Payload, &e)
			what += " " + e.Command
		}
		c.srv.log.Warn("ssh request refused", "user", c.user, "addr", c.nc.RemoteAddr().String(), "request", what)
	}
	if req.WantReply {
		req.Reply(ok, nil)
	}
}

// ended is called when the client has closed the channel (or the
// connection ended): a running handler is told to stop and counts the
// session out itself when it has.
func (ss *openSession) ended() {
	ss.cancel()
	if !ss.started {
		ss.ch.Close()
		ss.c.sessionEnded(false)
	}
}

// run runs the handler. When the session ends (the handler returns, or
// calls the end its Detach gave), the exit status is sent, the channel
// closed, and then gone called. When a shell ends (quit) and it was the
// connection's last session, the connection is closed too.
func (c *conn) run(ctx context.Context, s *Session, ch ssh.Channel, gone func()) {
	kind := "shell"
	switch {
	case s.Exec:
		kind = "exec"
		c.busy.Add(1)
	case s.PTY:
		kind = "pty"
	}
	c.srv.log.Debug("ssh session", "user", c.user, "addr", c.nc.RemoteAddr().String(), "kind", kind)
	s.In = activity{r: ch, c: c}
	s.Out = ch
	s.Err = ch.Stderr()
	var once sync.Once
	s.end = func(status int) {
		once.Do(func() {
			if s.Exec {
				c.busy.Add(-1)
			}
			ch.CloseWrite()
			ch.SendRequest("exit-status", false, ssh.Marshal(exitStatus{uint32(status)}))
			ch.Close()
			// The idle clock starts again when a command ends, not while it ran.
			c.touch()
			c.sessionEnded(!s.Exec)
			gone()
		})
	}
	if status := c.srv.cfg.Handler(ctx, s); !s.detached {
		s.end(status)
	}
}

// sessionEnded counts a session out. Once a shell has ended (quit,
// Control-D, the end of a script), the connection is closed when no
// session is left open and none was opened within the grace period: a
// plain client has left, while multiplexing clients (OpenSSH's
// ControlMaster, asyncssh) go on opening sessions on it.
func (c *conn) sessionEnded(shell bool) {
	if shell {
		c.shellEnded.Store(true)
	}
	if c.sessions.Add(-1) != 0 || !c.shellEnded.Load() {
		return
	}
	gen := c.opened.Load()
	time.AfterFunc(c.srv.cfg.CloseGrace, func() {
		if !c.closed.Load() && c.sessions.Load() == 0 && c.opened.Load() == gen {
			c.srv.log.Debug("ssh connection closed", "user", c.user, "addr", c.nc.RemoteAddr().String(), "reason", "no session left")
			c.sc.Close()
		}
	})
}
