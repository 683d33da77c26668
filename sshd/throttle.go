package sshd

import (
	"context"
	"sync"
	"time"
)

// throttle is the password budget of each client address: max failures
// within window refuse the address for lockout. A check takes its place
// in the budget before the password is compared (begin), so parallel
// guesses from one address cannot check more passwords than the budget
// holds: a check beyond it waits until one in flight is decided. A
// success gives its place back but forgives no earlier failure.
type throttle struct {
	max     int
	window  time.Duration
	lockout time.Duration
	now     func() time.Time

	mu      sync.Mutex
	addrs   map[string]*failures
	changed chan struct{} // closed (and replaced) when a check is decided
}

type failures struct {
	times    []time.Time // within the window, oldest first
	until    time.Time   // refused until then
	inflight int         // checks begun, not yet decided
}

// maxTracked bounds the table; stale entries are dropped past it.
const maxTracked = 10000

func newThrottle(max int, window, lockout time.Duration) *throttle {
	return &throttle{max: max, window: window, lockout: lockout, now: time.Now,
		addrs: map[string]*failures{}, changed: make(chan struct{})}
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

// begin takes a place in addr's budget for one check. It returns done,
// to be called with the outcome, or, when addr is refused, how long it
// still is. It waits while the budget is taken by checks in flight.
func (t *throttle) begin(ctx context.Context, addr string) (done func(failed bool) (lockedOut bool), left time.Duration, err error) {
	for {
		t.mu.Lock()
		f := t.entry(addr)
		now := t.now()
		if l := f.until.Sub(now); l > 0 {
			t.mu.Unlock()
			return nil, l, nil
		}
		f.expire(now, t.window)
		if len(f.times)+f.inflight < t.max {
			f.inflight++
			t.mu.Unlock()
			var once sync.Once
			return func(failed bool) (locked bool) {
				once.Do(func() { locked = t.decide(addr, failed) })
				return locked
			}, 0, nil
		}
		wait := t.changed
		t.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		}
	}
}

func (t *throttle) decide(addr string, failed bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.entry(addr)
	f.inflight--
	locked := false
	if failed {
		locked = t.record(f)
	}
	close(t.changed)
	t.changed = make(chan struct{})
	return locked
}

// fail records a failure that took no place in the budget (a connection
// that offered only unknown keys); it reports whether addr is now
// refused.
func (t *throttle) fail(addr string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.record(t.entry(addr))
}

func (t *throttle) record(f *failures) bool {
	now := t.now()
	f.expire(now, t.window)
	f.times = append(f.times, now)
	if len(f.times) >= t.max {
		f.until = now.Add(t.lockout)
		f.times = f.times[:0]
		return true
	}
	return false
}

func (f *failures) expire(now time.Time, window time.Duration) {
	keep := f.times[:0]
	for _, at := range f.times {
		if now.Sub(at) < window {
			keep = append(keep, at)
		}
	}
	f.times = keep
}

func (t *throttle) entry(addr string) *failures {
	f := t.addrs[addr]
	if f == nil {
		if len(t.addrs) >= maxTracked {
			t.prune(t.now())
		}
		f = &failures{}
		t.addrs[addr] = f
	}
	return f
}

func (t *throttle) prune(now time.Time) {
	idle := func(f *failures) bool { return f.inflight == 0 }
	for a, f := range t.addrs {
		if idle(f) && f.until.Before(now) && (len(f.times) == 0 || now.Sub(f.times[len(f.times)-1]) >= t.window) {
			delete(t.addrs, a)
		}
	}
	if len(t.addrs) >= maxTracked { // still full: forget half at random
		n := 0
		for a, f := range t.addrs {
			if !idle(f) {
				continue
			}
			delete(t.addrs, a)
			if n++; n >= maxTracked/2 {
				break
			}
		}
	}
}
