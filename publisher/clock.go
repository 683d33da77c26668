package publisher

import "github.com/ucmsh/ucmsh/internal/clock"

// Clock is the only source of "now" for licensing logic (internal/clock).
type Clock = clock.Clock

// systemClock is the machine's clock, for Service.Wall.
var systemClock Clock = clock.System{}
