package sshd

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Startups is OpenSSH's MaxStartups start:rate:full: with Start
// connections still unauthenticated, a new one is refused with a
// probability of Rate percent, rising linearly to 100 % at Full.
type Startups struct {
	Start, Rate, Full int
}

// DefaultStartups is OpenSSH's default, 10:30:100.
var DefaultStartups = Startups{Start: 10, Rate: 30, Full: 100}

func (s Startups) String() string { return fmt.Sprintf("%d:%d:%d", s.Start, s.Rate, s.Full) }

// ParseStartups reads "start:rate:full" (or a bare "full", as OpenSSH
// allows: every connection beyond it refused).
func ParseStartups(v string) (Startups, error) {
	parts := strings.Split(v, ":")
	nums := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 1_000_000 {
			return Startups{}, fmt.Errorf(msgStartupsSyntax, v)
		}
		nums[i] = n
	}
	var s Startups
	switch len(nums) {
	case 1:
		s = Startups{Start: nums[0], Rate: 100, Full: nums[0]}
	case 3:
		s = Startups{Start: nums[0], Rate: nums[1], Full: nums[2]}
	default:
		return Startups{}, fmt.Errorf(msgStartupsSyntax, v)
	}
	if s.Start < 1 || s.Rate > 100 || s.Full < s.Start || (s.Rate == 0 && s.Full == s.Start) {
		return Startups{}, fmt.Errorf(msgStartupsRange, v)
	}
	return s, nil
}

// drop reports whether a new connection is refused when n are already
// unauthenticated; p is a random number in [0, 1).
func (s Startups) drop(n int, p float64) bool {
	switch {
	case n < s.Start:
		return false
	case n >= s.Full:
		return true
	}
	// Rate % at Start, rising linearly to 100 % at Full.
	prob := (float64(s.Rate) + float64(100-s.Rate)*float64(n-s.Start)/float64(s.Full-s.Start)) / 100
	return p < prob
}

// admission counts the connections that have not logged in yet, in all
// and per source address, and decides whether a new one may start.
type admission struct {
	startups  Startups
	perSource int
	random    func() float64

	mu    sync.Mutex
	total int
	bySrc map[string]int
}

func newAdmission(s Startups, perSource int) *admission {
	return &admission{startups: s, perSource: perSource, random: rand.Float64, bySrc: map[string]int{}}
}

// enter admits an unauthenticated connection from ip, or returns why it
// is refused. A connection admitted must call leave once it logged in or
// ended.
func (a *admission) enter(ip string) (reason string, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.bySrc[ip] >= a.perSource {
		return reasonPerSource, false
	}
	if a.startups.drop(a.total, a.random()) {
		return reasonStartups, false
	}
	a.total++
	a.bySrc[ip]++
	return "", true
}

func (a *admission) leave(ip string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.total--
	if a.bySrc[ip]--; a.bySrc[ip] <= 0 {
		delete(a.bySrc, ip)
	}
}

// refusals logs refused connections once per interval with a count, so
// a flood cannot flood the log: the first refusal of a quiet spell is
// logged at once, the next ones are summed until the interval ends.
type refusals struct {
	log   *slog.Logger
	every time.Duration
	now   func() time.Time

	mu      sync.Mutex
	last    time.Time // when a line was last written
	pending map[string]*refusalCount
	timer   *time.Timer
	stopped bool
}

type refusalCount struct {
	n    int
	addr string // the last one
}

func newRefusals(log *slog.Logger, every time.Duration) *refusals {
	return &refusals{log: log, every: every, now: time.Now, pending: map[string]*refusalCount{}}
}

// note records a refused connection from addr.
func (r *refusals) note(reason, addr string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if len(r.pending) == 0 && now.Sub(r.last) >= r.every {
		r.last = now
		r.log.Warn("ssh connections refused", "reason", reason, "count", 1, "addr", addr)
		return
	}
	c := r.pending[reason]
	if c == nil {
		c = &refusalCount{}
		r.pending[reason] = c
	}
	c.n++
	c.addr = addr
	if r.timer == nil && !r.stopped {
		r.timer = time.AfterFunc(max(r.every-now.Sub(r.last), 0), r.flush)
	}
}

// flush writes one line per reason with the refusals since the last.
func (r *refusals) flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.timer = nil
	if len(r.pending) == 0 {
		return
	}
	r.last = r.now()
	for reason, c := range r.pending {
		r.log.Warn("ssh connections refused", "reason", reason, "count", c.n, "addr", c.addr, "within", r.every)
	}
	clear(r.pending)
}

// stop writes what is pending and stops the timer.
func (r *refusals) stop() {
	r.mu.Lock()
	r.stopped = true
	if r.timer != nil {
		r.timer.Stop()
	}
	r.mu.Unlock()
	r.flush()
}
