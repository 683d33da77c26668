// Package clock is the one source of "now" for licensing logic on the node and
// on cssm, so timers can be tested and simulated (--now) without waiting.
package clock

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// System reads the machine's clock, in UTC.
type System struct{}

// Now returns the current time.
func (System) Now() time.Time { return time.Now().UTC() }

// Fixed always returns the same instant: "now" for a simulation or a test.
type Fixed time.Time

// Now returns the fixed instant, in UTC.
func (c Fixed) Now() time.Time { return time.Time(c).UTC() }

// Parse reads a --now flag: empty means the system clock, otherwise an RFC 3339
// instant that the clock then always answers.
func Parse(now string) (Clock, error) {
	if now == "" {
		return System{}, nil
	}
	t, err := time.Parse(time.RFC3339, now)
	if err != nil {
		return nil, fmt.Errorf("--now %q is not an RFC 3339 time such as 2026-01-15T10:00:00Z", now)
	}
	return Fixed(t), nil
}

// Sleeper is a clock that can also wait, such as a test's.
type Sleeper interface {
	Sleep(ctx context.Context, d time.Duration) error
}

// Sleep waits d on c, or until ctx ends (Control-C). The system clock
// waits for real; a fixed clock does not wait, as its time never moves;
// a clock that is a Sleeper decides itself.
func Sleep(ctx context.Context, c Clock, d time.Duration) error {
	switch c := c.(type) {
	case Sleeper:
		return c.Sleep(ctx, d)
	case Fixed:
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Manual is a clock that stands still until it is moved: tests and
// simulations step it forward (or back, to test a clock that jumps).
// It is safe for concurrent use.
type Manual struct {
	mu sync.Mutex
	t  time.Time
}

// NewManual starts a Manual clock at t.
func NewManual(t time.Time) *Manual { return &Manual{t: t} }

// Now returns the clock's instant, in UTC.
func (c *Manual) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t.UTC()
}

// Add moves the clock by d.
func (c *Manual) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
