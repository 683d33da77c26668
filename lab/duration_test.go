package lab

import (
	"testing"
	"time"
)

func TestParseAdvance(t *testing.T) {
	now := time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"30d":   30 * 24 * time.Hour,
		"1d12h": 36 * time.Hour,
		"90m":   90 * time.Minute,
		"1w":    7 * 24 * time.Hour,
		"1mo":   now.AddDate(0, 1, 0).Sub(now), // calendar month
		"1y":    365 * 24 * time.Hour,
	} {
		got, err := ParseAdvance(in, now)
		if err != nil || got != want {
			t.Errorf("ParseAdvance(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "30", "d", "-1d", "1.5d", "3x", "1d-2h", "200y", "2700000h", "9999999m9999999h"} {
		if _, err := ParseAdvance(bad, now); err == nil {
			t.Errorf("ParseAdvance(%q) accepted", bad)
		}
	}
}

func FuzzParseAdvance(f *testing.F) {
	for _, s := range []string{"30d", "7mo", "1y2mo3w4d5h6m7s", "9999999y"} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseAdvance(s, now)
		if err == nil && d < 0 {
			t.Fatalf("%q gave a negative jump %v", s, d)
		}
	})
}

func FuzzParseShard(f *testing.F) {
	for _, s := range []string{"1/2", "3/2", "0/1", "1/", "/1", "99999999999999999999/1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sh, err := ParseShard(s)
		if err == nil && (sh.I < 1 || sh.I > sh.N) {
			t.Fatalf("%q gave shard %d/%d", s, sh.I, sh.N)
		}
	})
}
