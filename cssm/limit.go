package cssm

import (
	"container/list"
	"log"
	"net"
	"net/http"
	"sync"
	"time"
)

// Connection limits of `cssm serve`: defaults of its flags.
const (
	DefaultMaxConnections          = 4096
	DefaultMaxConnectionsPerClient = 256
)

// Limits bounds the connections `cssm serve` keeps open.
type Limits struct {
	// MaxConnections caps open connections. At the cap, a new connection
	// closes the longest-waiting one that is idle or has not sent a request
	// yet, so idle keep-alives cannot lock out a product; with none of those,
	// it is refused.
	MaxConnections int
	// PerClient caps open connections from one client address; more are
	// closed as soon as they are accepted.
	PerClient int
}

func (l Limits) withDefaults() Limits {
	if l.MaxConnections <= 0 {
		l.MaxConnections = DefaultMaxConnections
	}
	if l.PerClient <= 0 {
		l.PerClient = DefaultMaxConnectionsPerClient
	}
	return l
}

// limitListener enforces Limits on what its Listener accepts. The http.Server
// must report connection states to ConnState, which keeps the waiting list.
type limitListener struct {
	net.Listener
	lim Limits
	log *log.Logger

	mu      sync.Mutex
	open    int
	byAddr  map[string]int
	waiting *list.List // of *limitedConn, idle or new, oldest first

	refused, evicted int // since lastLog
	lastLog          time.Time
}

type limitedConn struct {
	net.Conn
	l    *limitListener
	addr string
	elem *list.Element // in l.waiting, or nil
	gone bool          // counted out of l.open
}

func newLimitListener(ln net.Listener, lim Limits, logger *log.Logger) *limitListener {
	return &limitListener{Listener: ln, lim: lim.withDefaults(), log: logger, byAddr: map[string]int{}, waiting: list.New()}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		nc, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr := clientAddr(nc.RemoteAddr())
		c, victim := l.admit(nc, addr)
		if victim != nil {
			victim.Conn.Close()
		}
		if c == nil {
			nc.Close()
			continue
		}
		return c, nil
	}
}

// admit counts nc in, or returns nil to refuse it; victim is a waiting
// connection already counted out that the caller must close.
func (l *limitListener) admit(nc net.Conn, addr string) (c, victim *limitedConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	defer l.logRefusals()
	if l.byAddr[addr] >= l.lim.PerClient {
		l.refused++
		return nil, nil
	}
	if l.open >= l.lim.MaxConnections {
		front := l.waiting.Front()
		if front == nil {
			l.refused++
			return nil, nil
		}
		victim = front.Value.(*limitedConn)
		l.countOut(victim)
		l.evicted++
	}
	c = &limitedConn{Conn: nc, l: l, addr: addr}
	l.open++
	l.byAddr[addr]++
	c.elem = l.waiting.PushBack(c) // new: no request yet
	return c, victim
}

func (l *limitListener) countOut(c *limitedConn) {
	if c.gone {
		return
	}
	c.gone = true
	if c.elem != nil {
		l.waiting.Remove(c.elem)
		c.elem = nil
	}
	l.open--
	if l.byAddr[c.addr]--; l.byAddr[c.addr] <= 0 {
		delete(l.byAddr, c.addr)
	}
}

// logRefusals logs at most once a minute, with counts.
func (l *limitListener) logRefusals() {
	if l.log == nil || l.refused+l.evicted == 0 || time.Since(l.lastLog) < time.Minute {
		return
	}
	l.log.Printf("connection limits (%d open at most, %d per client address): refused %d connections, closed %d waiting ones", l.lim.MaxConnections, l.lim.PerClient, l.refused, l.evicted)
	l.refused, l.evicted, l.lastLog = 0, 0, time.Now()
}

func (c *limitedConn) Close() error {
	c.l.mu.Lock()
	c.l.countOut(c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// ConnState is the http.Server hook: a connection is on the waiting list while
// it is new or idle, off it while a request is being served.
func (l *limitListener) ConnState(nc net.Conn, state http.ConnState) {
	if u, ok := nc.(interface{ NetConn() net.Conn }); ok { // TLS
		nc = u.NetConn()
	}
	c, ok := nc.(*limitedConn)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if c.gone {
		return
	}
	switch state {
	case http.StateIdle:
		if c.elem == nil {
			c.elem = l.waiting.PushBack(c)
		}
	case http.StateActive:
		if c.elem != nil {
			l.waiting.Remove(c.elem)
			c.elem = nil
		}
	case http.StateClosed, http.StateHijacked:
		l.countOut(c)
	}
}

func clientAddr(a net.Addr) string {
	if tcp, ok := a.(*net.TCPAddr); ok {
		return tcp.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}
