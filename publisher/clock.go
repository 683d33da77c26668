package publisher

import "time"

// Clock is the only source of "now" for licensing logic, so timers can be
// tested and simulated (--now) without waiting.
type Clock interface {
	Now() time.Time
}

// SystemClock reads the machine's clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// FixedClock always returns the same instant: the node's "now" for a
// simulation or a test.
type FixedClock time.Time

// Now returns the fixed instant.
func (c FixedClock) Now() time.Time { return time.Time(c) }
