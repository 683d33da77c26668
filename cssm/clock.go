package cssm

import "github.com/ucmsh/ucmsh/internal/clock"

// Clock is cssm's notion of now: token expiry, TERM licence end dates and the
// times it records. Timer policy is the node's, not cssm's.
type Clock = clock.Clock
