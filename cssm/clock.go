package cssm

import "time"

// Clock is cssm's notion of now: token expiry, TERM licence end dates and the times
// it records. Timer policy (renewal intervals, deadlines) is the node's, not cssm's.
type Clock interface {
	Now() time.Time
}

// SystemClock reads the real time.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

// FixedClock always answers the same instant (`--now`), so runs are reproducible.
type FixedClock time.Time

// Now returns the fixed instant in UTC.
func (c FixedClock) Now() time.Time { return time.Time(c).UTC() }
