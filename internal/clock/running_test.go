package clock

import (
	"testing"
	"time"
)

// fakeWall is a machine clock the test moves by hand.
type fakeWall struct{ t time.Time }

func (w *fakeWall) now() time.Time { return w.t }

var t0 = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

func TestRunningFollowsTheMachineAtItsSpeed(t *testing.T) {
	w := &fakeWall{t: time.Unix(1000, 0)}
	c, err := NewRunning(t0, 1440, w.now)
	if err != nil {
		t.Fatal(err)
	}
	w.t = w.t.Add(time.Minute)
	if got, want := c.Now(), t0.Add(24*time.Hour); !got.Equal(want) {
		t.Fatalf("after one real minute at 1440: %v, want %v", got, want)
	}
	if d := c.WallUntil(t0.Add(48 * time.Hour)); d < time.Minute || d > time.Minute+time.Millisecond {
		t.Fatalf("WallUntil one more simulated day = %v, want a minute", d)
	}
}

func TestRunningNeverGoesBack(t *testing.T) {
	w := &fakeWall{t: time.Unix(1000, 0)}
	c, _ := NewRunning(t0, 1, w.now)
	w.t = w.t.Add(time.Hour)
	seen := c.Now()
	w.t = w.t.Add(-30 * time.Minute) // the machine's clock steps back
	if got := c.Now(); got.Before(seen) {
		t.Fatalf("clock went back from %v to %v", seen, got)
	}
	if _, err := c.Advance(-time.Second); err != ErrBackwards {
		t.Fatalf("Advance(-1s) = %v, want ErrBackwards", err)
	}
	if got := c.AdvanceTo(t0); got.Before(seen) {
		t.Fatalf("AdvanceTo the past moved the clock back to %v", got)
	}
}

func TestRunningJumpsAndTellsWaiters(t *testing.T) {
	w := &fakeWall{t: time.Unix(1000, 0)}
	c, _ := NewRunning(t0, 0, w.now)
	ch := c.Changed()
	got, err := c.Advance(30 * 24 * time.Hour)
	if err != nil || !got.Equal(t0.AddDate(0, 0, 30)) {
		t.Fatalf("Advance(30d) = %v, %v", got, err)
	}
	select {
	case <-ch:
	default:
		t.Fatal("Changed was not closed by the jump")
	}
	w.t = w.t.Add(time.Hour)
	if !c.Now().Equal(got) {
		t.Fatal("a stopped clock moved")
	}
	if err := c.SetSpeed(60); err != nil {
		t.Fatal(err)
	}
	w.t = w.t.Add(time.Minute)
	if want := got.Add(time.Hour); !c.Now().Equal(want) {
		t.Fatalf("at speed 60 a real minute gave %v, want %v", c.Now(), want)
	}
	if err := c.SetSpeed(-1); err == nil {
		t.Fatal("a negative speed was accepted")
	}
}

// A hold keeps the running clock at a timer's instant while the machine is
// too busy to run the timer; once it moves on the clock catches up. It
// never lasts more than MaxHold, and a jump goes past it.
func TestRunningHoldsAtATimer(t *testing.T) {
	w := &fakeWall{t: time.Unix(1000, 0)}
	c, _ := NewRunning(t0, 1440, w.now)
	due := t0.Add(time.Hour)
	c.Hold(due)
	w.t = w.t.Add(10 * time.Second) // four simulated hours
	if got := c.Now(); !got.Equal(due) {
		t.Fatalf("held clock reads %v, want the timer's instant %v", got, due)
	}
	if d := c.WallUntil(t0.Add(5 * time.Hour)); d < 2400*time.Millisecond || d > 2501*time.Millisecond {
		t.Fatalf("WallUntil during a hold = %v, want 2.5s from the speed's instant", d)
	}
	c.Hold(time.Time{}) // the timer ran
	if got, want := c.Now(), t0.Add(4*time.Hour); !got.Equal(want) {
		t.Fatalf("after the hold: %v, want %v (caught up)", got, want)
	}

	c.Hold(t0.Add(5 * time.Hour)) // a timer that never runs
	w.t = w.t.Add(3 * time.Second)
	if got := c.Now(); !got.Equal(t0.Add(5 * time.Hour)) {
		t.Fatalf("held clock reads %v", got)
	}
	w.t = w.t.Add(MaxHold)
	if got, want := c.Now(), t0.Add(4*time.Hour).Add(time.Duration(1440*float64(MaxHold+3*time.Second))); !got.Equal(want) {
		t.Fatalf("a hold past MaxHold still holds: %v, want %v", got, want)
	}

	c.Hold(c.Now().Add(time.Minute))
	jumped, _ := c.Advance(24 * time.Hour)
	w.t = w.t.Add(time.Second)
	if got := c.Now(); !got.After(jumped) {
		t.Fatalf("a hold behind a jump keeps the clock at %v", got)
	}
}
