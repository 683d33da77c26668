package publisher

import (
	"time"

	"github.com/ucmsh/ucmsh/internal/clock"
)

// Clock is the only source of "now" for licensing logic (internal/clock).
type Clock = clock.Clock

// systemClock is the machine's clock, for Service.Wall.
var systemClock Clock = clock.System{}

// monotonic is the instant a transaction uses for the clock reading read:
// never earlier than the latest instant the node has recorded, so setting
// the clock back (or a --now in the past) gives no evaluation time or
// timer back. The trace says once when the clock went backwards, from which
// instant to which reading.
func (st *State) monotonic(read time.Time) time.Time {
	latest := st.latestInstant()
	if !read.Before(latest) {
		st.ClockBehind = nil
		if read.Sub(latest) >= clockSeenEvery {
			st.ClockSeen = read.UTC()
		}
		return read
	}
	if st.ClockBehind == nil {
		r := read.UTC()
		st.ClockBehind = &r
		st.logEvent(latest, "The clock moved backwards from %s to %s; the licensing timers go on from %s", latest.UTC().Format(time.RFC3339), r.Format(time.RFC3339), latest.UTC().Format(time.RFC3339))
	}
	return latest
}

// clockSeenEvery is how far the clock must move past the latest recorded
// instant before its reading is recorded too: at most one write an hour.
const clockSeenEvery = time.Hour

// latestInstant is the latest instant recorded anywhere in the state.
func (st *State) latestInstant() time.Time {
	latest := st.Created
	if st.ClockSeen.After(latest) {
		latest = st.ClockSeen
	}
	see := func(t time.Time) {
		if t.After(latest) {
			latest = t
		}
	}
	seeP := func(t *time.Time) {
		if t != nil {
			see(*t)
		}
	}
	seeA := func(a *Attempt) {
		if a != nil {
			see(a.At)
		}
	}
	for _, e := range st.Events {
		see(e.At)
	}
	seeP(st.Evaluation.RunningSince)
	seeP(st.Evaluation.ExpiredAt)
	if r := st.Registration; r != nil {
		see(r.At)
		see(r.RenewedAt)
		seeA(r.LastRenewal)
		seeP(r.Auth.At)
		seeA(r.Auth.Last)
		seeP(r.Auth.ShortSince)
		if p := r.PendingExport; p != nil {
			see(p.Last.At)
		}
	}
	if r := st.Reservation; r != nil && r.Code != nil {
		see(r.Code.InstalledAt)
	}
	if st.Call != nil {
		see(st.Call.At)
	}
	return latest
}
