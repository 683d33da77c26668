package clock_test

import (
	"context"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/internal/clock"
)

func TestParse(t *testing.T) {
	c, err := clock.Parse("2026-01-15T11:00:00+01:00")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Now(); !got.Equal(time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)) || got.Location() != time.UTC {
		t.Fatalf("Now() = %v", got)
	}
	if c, err := clock.Parse(""); err != nil || c != (clock.System{}) {
		t.Fatalf("empty --now: %v, %v", c, err)
	}
	if _, err := clock.Parse("yesterday"); err == nil {
		t.Fatal(`--now "yesterday" was accepted`)
	}
}

// A simulated node never waits; the system clock waits until the time is
// up or the command is interrupted.
func TestSleep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	start := time.Now()
	if err := clock.Sleep(ctx, clock.Fixed(start), time.Hour); err != nil || time.Since(start) > 10*time.Second {
		t.Fatalf("a fixed clock waited: %v", err)
	}
	if err := clock.Sleep(ctx, clock.System{}, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := clock.Sleep(ctx, clock.System{}, time.Hour); err != context.Canceled {
		t.Fatalf("an interrupted wait returned %v", err)
	}
	if err := clock.Sleep(ctx, clock.Fixed(start), time.Hour); err != context.Canceled {
		t.Fatalf("an interrupted simulated wait returned %v", err)
	}
}

func TestManualMovesOnlyWhenTold(t *testing.T) {
	start := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	c := clock.NewManual(start)
	if !c.Now().Equal(start) {
		t.Fatalf("Now() = %v", c.Now())
	}
	c.Add(90 * time.Minute)
	c.Add(-30 * time.Minute)
	if want := start.Add(time.Hour); !c.Now().Equal(want) {
		t.Fatalf("Now() = %v, want %v", c.Now(), want)
	}
}
