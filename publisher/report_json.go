package publisher

import (
	"encoding/json"
	"time"
)

// In the JSON of a report, instants are RFC 3339 (time.Time's own form)
// and durations are Go duration strings in whole seconds, such as
// "2089h41m0s", never nanoseconds: a script reads them with
// time.ParseDuration, a person as is.

// MarshalJSON writes the evaluation time left as "evaluation_remaining".
func (a Authorization) MarshalJSON() ([]byte, error) {
	type plain Authorization
	return json.Marshal(struct {
		plain
		EvaluationRemaining string `json:"evaluation_remaining,omitempty"`
	}{plain(a), durationString(a.EvaluationRemaining)})
}

// MarshalJSON writes the evaluation time left as "remaining".
func (e EvalStatus) MarshalJSON() ([]byte, error) {
	type plain EvalStatus
	return json.Marshal(struct {
		plain
		Remaining string `json:"remaining"`
	}{plain(e), e.Remaining.Truncate(time.Second).String()})
}

func durationString(d *time.Duration) string {
	if d == nil {
		return ""
	}
	return d.Truncate(time.Second).String()
}
