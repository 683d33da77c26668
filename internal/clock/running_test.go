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
