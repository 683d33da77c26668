package publisher

import (
	"fmt"
	"time"
)

// SchemaVersion is the version of state.json this build writes. Adding an
// optional field keeps the version; changing the meaning of one bumps it.
const SchemaVersion = 1

// State is everything the licensing service persists, in state.json.
type State struct {
	Version    int        `json:"version"`
	Identity   Identity   `json:"identity"`
	Created    time.Time  `json:"created"`
	Evaluation Evaluation `json:"evaluation"`
	Events     []Event    `json:"events,omitempty"`
	// Transport is how the node reaches its licensing server.
	Transport TransportConfig `json:"transport"`
	// Registration is set while the node is registered.
	Registration *RegistrationState `json:"registration,omitempty"`
	// Reservation is set while reservation mode is enabled.
	Reservation *ReservationState `json:"reservation,omitempty"`
	// LastCodeTimestamp is the reservation sequence: the issue time of the
	// newest code installed, so an older one is never installed again.
	// Factory reset keeps it.
	LastCodeTimestamp time.Time `json:"last_code_timestamp,omitzero"`
	// Call is the state-changing call to the licensing server in flight, or
	// whose answer was lost (calls.go).
	Call *PendingCall `json:"call,omitempty"`
	// ClockBehind is the first reading of a clock found earlier than the
	// latest instant the node recorded, while it stays behind (Service.update).
	ClockBehind *time.Time `json:"clock_behind,omitempty"`
	// ClockSeen is the latest clock reading, kept when it is an hour or
	// more past every other instant recorded (so a clock set back cannot
	// give back more than that).
	ClockSeen time.Time `json:"clock_seen,omitzero"`
	// Returned lists the codes whose licenses went back to CSSM, newest
	// last, so that installing one again is refused with that reason.
	// Factory reset keeps it.
	Returned []ReturnedCode `json:"returned_codes,omitempty"`
}

// Evaluation is the 90-day evaluation counter, kept as stored instants so
// the remaining time is always computed, never decremented in place.
type Evaluation struct {
	// Used is the evaluation time consumed in finished runs.
	Used time.Duration `json:"used_ns"`
	// RunningSince is set while the counter runs.
	RunningSince *time.Time `json:"running_since,omitempty"`
	// ExpiredAt is the instant the period ran out, once it has.
	ExpiredAt *time.Time `json:"expired_at,omitempty"`
}

// Event is one line of `show license trace`.
type Event struct {
	At   time.Time `json:"at"`
	Text string    `json:"text"`
}

// maxEvents bounds the trace so the state file stays small.
const maxEvents = 200

func (st *State) logEvent(at time.Time, format string, args ...any) {
	st.Events = append(st.Events, Event{At: at.UTC(), Text: fmt.Sprintf(format, args...)})
	if n := len(st.Events) - maxEvents; n > 0 {
		st.Events = append([]Event(nil), st.Events[n:]...)
	}
}

// check rejects a state that no build of ucmsh would have written.
func (st *State) check() error {
	switch {
	case st.Version == 0:
		return fmt.Errorf("it has no schema version")
	case st.Version > SchemaVersion:
		return fmt.Errorf("it was written by a newer ucmsh (schema version %d; this one understands up to %d)", st.Version, SchemaVersion)
	case !st.Identity.valid():
		return fmt.Errorf("its node identity %q is not a 32-digit lowercase hex UUID", st.Identity.UUID)
	case st.Evaluation.Used < 0 || st.Evaluation.Used > EvaluationPeriod:
		return fmt.Errorf("its evaluation counter %v is out of range", st.Evaluation.Used)
	}
	return nil
}
