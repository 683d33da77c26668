package clock

import (
	"errors"
	"sync"
	"time"
)

// Running is a clock that runs on its own: from a start instant it moves
// Speed times as fast as the machine's clock, and jumps forward on
// request. It never goes back, even if the machine's clock does. A lab
// shares one between cssm and all its nodes.
type Running struct {
	mu       sync.Mutex
	wall     func() time.Time
	baseWall time.Time
	baseSim  time.Time
	speed    float64
	last     time.Time     // latest instant answered: the floor of Now
	changed  chan struct{} // closed (and replaced) on every jump or change of speed
	hold     time.Time     // while running, Now reads no later than this (zero: none)
	heldAt   time.Time     // when, on the machine's clock, the hold first held Now back
}

// MaxHold bounds how long, on the machine's clock, a hold keeps the clock
// back: a timer that cannot run does not stop the lab's time.
const MaxHold = 5 * time.Second

// MaxSpeed bounds the speed: a simulated year in about six wall seconds.
const MaxSpeed = 5_000_000

// ErrBackwards is returned for a jump into the past.
var ErrBackwards = errors.New("the lab clock only moves forward")

// NewRunning starts a clock at start, running speed times real time. wall
// is the machine's clock (nil: time.Now); tests give their own.
func NewRunning(start time.Time, speed float64, wall func() time.Time) (*Running, error) {
	if wall == nil {
		wall = time.Now
	}
	if err := checkSpeed(speed); err != nil {
		return nil, err
	}
	start = start.UTC()
	return &Running{wall: wall, baseWall: wall(), baseSim: start, speed: speed, last: start, changed: make(chan struct{})}, nil
}

func checkSpeed(speed float64) error {
	if !(speed >= 0 && speed <= MaxSpeed) { // also refuses NaN
		return errors.New("the clock speed must be between 0 (stopped) and 5000000")
	}
	return nil
}

// Now is the simulated instant, in UTC.
func (c *Running) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *Running) nowLocked() time.Time {
	w := c.wall()
	t := c.nominal(w)
	if !c.hold.IsZero() && t.After(c.hold) {
		if c.heldAt.IsZero() {
			c.heldAt = w
		}
		if w.Sub(c.heldAt) < MaxHold {
			t = c.hold
		}
	}
	if t.Before(c.last) {
		t = c.last // the machine's clock stepped back
	}
	c.last = t
	return t
}

// nominal is the instant the speed alone gives at wall time w.
func (c *Running) nominal(w time.Time) time.Time {
	return c.baseSim.Add(time.Duration(float64(w.Sub(c.baseWall)) * c.speed))
}

// Hold keeps the running clock from reading later than t (zero: no hold)
// until the hold changes, or for at most MaxHold of real time. A lab
// holds it at the next timer due, so that the timer runs at its instant
// even when the machine is too busy to wake it on time; once the hold
// moves on, the clock catches up with its speed. Jumps go past a hold.
func (c *Running) Hold(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !t.Equal(c.hold) {
		c.hold, c.heldAt = t.UTC(), time.Time{}
	}
}

// Speed is how many simulated seconds pass in one real second.
func (c *Running) Speed() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.speed
}

// SetSpeed changes the speed from now on.
func (c *Running) SetSpeed(speed float64) error {
	if err := checkSpeed(speed); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rebase(c.nowLocked())
	c.speed = speed
	c.notify()
	return nil
}

// Advance jumps d forward and returns the new instant.
func (c *Running) Advance(d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, ErrBackwards
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.nowLocked().Add(d)
	c.rebase(t)
	c.notify()
	return t, nil
}

// AdvanceTo jumps to t if it is ahead of now; it never goes back. It
// returns the instant the clock then reads.
func (c *Running) AdvanceTo(t time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.nowLocked()
	if !t.After(now) {
		return now
	}
	c.rebase(t.UTC())
	c.notify()
	return c.last
}

func (c *Running) rebase(sim time.Time) {
	c.baseWall, c.baseSim, c.last = c.wall(), sim, sim
	if c.hold.Before(sim) {
		c.hold, c.heldAt = time.Time{}, time.Time{} // jumped past it
	}
}

func (c *Running) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Changed is closed at the next jump or change of speed: a timer armed
// with WallUntil must then be armed again.
func (c *Running) Changed() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changed
}

// WallUntil is how long, on the machine's clock, until the clock reads t
// at the current speed, holds aside (0 if it already has; forever, as far
// as a timer cares, while stopped).
func (c *Running) WallUntil(t time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	// From the instant the speed gives, not a held one: a timer armed
	// during a hold still fires when its instant comes.
	d := t.Sub(c.nominal(c.wall()))
	if now := c.nowLocked(); !now.Before(t) {
		d = 0
	}
	switch {
	case d <= 0:
		return 0
	case c.speed == 0:
		return time.Duration(1<<63 - 1)
	}
	w := float64(d) / c.speed
	if w > float64(1<<62) {
		return time.Duration(1 << 62)
	}
	return time.Duration(w) + 1
}
