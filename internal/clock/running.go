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
}

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
	elapsed := c.wall().Sub(c.baseWall)
	t := c.baseSim.Add(time.Duration(float64(elapsed) * c.speed))
	if t.Before(c.last) {
		t = c.last // the machine's clock stepped back
	}
	c.last = t
	return t
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
// at the current speed (0 if it already has; forever, as far as a timer
// cares, while stopped).
func (c *Running) WallUntil(t time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := t.Sub(c.nowLocked())
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
