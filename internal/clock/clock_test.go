package clock_test

import (
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
