package sshd

import (
	"sync"
	"time"
)

// throttle counts authentication failures by client address. An address
// with max failures within window is refused for lockout: its connections
// are closed at once and its attempts fail without being checked.
type throttle struct {
	max     int
	window  time.Duration
	lockout time.Duration
	now     func() time.Time

	mu    sync.Mutex
	addrs map[string]*failures
}

type failures struct {
	times []time.Time // within the window, oldest first
	until time.Time   // refused until then
}

// maxTracked bounds the table; stale entries are dropped past it.
const maxTracked = 10000

func newThrottle(max int, window, lockout time.Duration) *throttle {
	return &throttle{max: max, window: window, lockout: lockout, now: time.Now, addrs: map[string]*failures{}}
}

// blocked reports whether addr is refused now, and for how long.
func (t *throttle) blocked(addr string) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.addrs[addr]
	if f == nil {
		return false, 0
	}
	if left := f.until.Sub(t.now()); left > 0 {
		return true, left
	}
	return false, 0
}

// fail records a failure; it reports whether addr is now refused.
func (t *throttle) fail(addr string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	f := t.addrs[addr]
	if f == nil {
		if len(t.addrs) >= maxTracked {
			t.prune(now)
		}
		f = &failures{}
		t.addrs[addr] = f
	}
	keep := f.times[:0]
	for _, at := range f.times {
		if now.Sub(at) < t.window {
			keep = append(keep, at)
		}
	}
	f.times = append(keep, now)
	if len(f.times) >= t.max {
		f.until = now.Add(t.lockout)
		f.times = f.times[:0]
		return true
	}
	return false
}

// succeed forgets the failures of an address that logged in.
func (t *throttle) succeed(addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if f := t.addrs[addr]; f != nil && !f.until.After(t.now()) {
		delete(t.addrs, addr)
	}
}

func (t *throttle) prune(now time.Time) {
	for a, f := range t.addrs {
		if f.until.Before(now) && (len(f.times) == 0 || now.Sub(f.times[len(f.times)-1]) >= t.window) {
			delete(t.addrs, a)
		}
	}
	if len(t.addrs) >= maxTracked { // still full: forget the oldest half at random
		n := 0
		for a := range t.addrs {
			delete(t.addrs, a)
			if n++; n >= maxTracked/2 {
				break
			}
		}
	}
}
