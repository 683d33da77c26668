package publisher

import (
	"fmt"
	"time"
)

// EvaluationPeriod is granted once in the product's life (REFERENCE §5).
const EvaluationPeriod = 90 * 24 * time.Hour

// consumed is the evaluation time used up at now.
func (e *Evaluation) consumed(now time.Time) time.Duration {
	used := e.Used
	if e.RunningSince != nil && now.After(*e.RunningSince) {
		used += now.Sub(*e.RunningSince)
	}
	return min(used, EvaluationPeriod)
}

// Remaining is what is left of the evaluation period at now.
func (e *Evaluation) Remaining(now time.Time) time.Duration {
	return EvaluationPeriod - e.consumed(now)
}

// Running reports whether the counter is counting down.
func (e *Evaluation) Running() bool { return e.RunningSince != nil }

// Expired reports whether the whole period has been used.
func (e *Evaluation) Expired(now time.Time) bool { return e.Remaining(now) <= 0 }

// expiry is the instant the running counter reaches zero.
func (e *Evaluation) expiry() time.Time {
	return e.RunningSince.Add(EvaluationPeriod - e.Used)
}

// track starts, stops or expires the counter so it runs exactly while it
// should; it returns true if the state changed.
func (st *State) trackEvaluation(now time.Time, shouldRun bool) bool {
	e := &st.Evaluation
	switch {
	case e.Running() && !now.Before(e.expiry()):
		at := e.expiry()
		e.Used, e.RunningSince, e.ExpiredAt = EvaluationPeriod, nil, &at
		st.logEvent(at, "Evaluation period expired")
		return true
	case e.Running() && !shouldRun:
		e.Used = e.consumed(now)
		e.RunningSince = nil
		st.logEvent(now, "Evaluation period paused with %s remaining", FormatRemaining(EvaluationPeriod-e.Used))
		return true
	case !e.Running() && shouldRun && e.Used < EvaluationPeriod:
		t := now.UTC()
		e.RunningSince = &t
		if e.Used == 0 {
			st.logEvent(now, "Evaluation period started")
		} else {
			st.logEvent(now, "Evaluation period resumed with %s remaining", FormatRemaining(EvaluationPeriod-e.Used))
		}
		return true
	}
	return false
}

// FormatRemaining renders a duration as the agent does:
// "87 days 1 hr 41 min 0 sec".
func FormatRemaining(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	return fmt.Sprintf("%d days %d hr %d min %d sec", s/86400, s%86400/3600, s%3600/60, s%60)
}
