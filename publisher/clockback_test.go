package publisher

import (
	"strings"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
)

// Setting the clock back gives no evaluation time back, and no timer
// restarts: the node goes on from the latest instant it recorded, and the
// trace says when the clock moved backwards, from when to when.
func TestTheClockNeverGivesTimeBack(t *testing.T) {
	dir := t.TempDir()
	if r := report(t, serviceAt(t, dir, t0, inUse)); r.Evaluation.Remaining != EvaluationPeriod {
		t.Fatal(r.Evaluation.Remaining)
	}
	later := t0.Add(10 * day)
	if r := report(t, serviceAt(t, dir, later, inUse)); r.Evaluation.Remaining != 80*day {
		t.Fatal(r.Evaluation.Remaining)
	}
	back := t0.Add(2 * day)
	for range 2 { // said once, however many commands run while it is behind
		r := report(t, serviceAt(t, dir, back, inUse))
		if r.Evaluation.Remaining != 80*day || !r.Now.Equal(later) {
			t.Fatalf("clock set back: remaining %v at %v", FormatRemaining(r.Evaluation.Remaining), r.Now)
		}
	}
	want := "The clock moved backwards from 2026-11-11T10:00:00Z to 2026-11-03T10:00:00Z"
	if n := strings.Count(traceText(t, serviceAt(t, dir, back, inUse)), want); n != 1 {
		t.Fatalf("the trace says %d times %q:\n%s", n, want, traceText(t, serviceAt(t, dir, back, inUse)))
	}
	// Forward again: counting resumes from the reading.
	if r := report(t, serviceAt(t, dir, later.Add(day), inUse)); r.Evaluation.Remaining != 79*day {
		t.Fatal(FormatRemaining(r.Evaluation.Remaining))
	}
}

// The renewal timers count from the latest instant too: a clock set back
// after an authorization failed does not postpone its retry.
func TestTimersUseTheLatestInstant(t *testing.T) {
	dir := t.TempDir()
	s := serviceAt(t, dir, t0, inUse)
	at := t0.Add(-10 * day)
	s.store.Update(func(st *State) error {
		s.ensure(st, t0)
		r := &RegistrationState{InstanceID: "i", Credential: "c", At: at, RenewedAt: at}
		last := t0.Add(-2 * time.Hour)
		r.Auth.At, r.Auth.Last, r.Auth.Status = &at, &Attempt{At: last, Reason: "x"}, cssmapi.StatusAuthorized
		r.Auth.Reported = lab(inUse).usage()
		st.Registration = r
		return nil
	})
	// At t0 the retry (an hour after the failure) is due; a clock read
	// three hours earlier must not make it wait.
	b := serviceAt(t, dir, t0.Add(-3*time.Hour), inUse)
	var due bool
	b.update(func(st *State, now time.Time) error { due = b.authDue(st.Registration, now); return nil })
	if !due {
		t.Fatal("a clock set back postponed the authorization retry")
	}
}

func traceText(t *testing.T, s *Service) string {
	t.Helper()
	var b strings.Builder
	for _, e := range report(t, s).Events {
		b.WriteString(e.At.Format(time.RFC3339) + " " + e.Text + "\n")
	}
	return b.String()
}
