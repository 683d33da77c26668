package reservation

import (
	"strings"
	"testing"
	"time"
)

// Issue 10.3: a code issued more than a day after the node's clock is
// refused (a wrong clock, or a code made to push the sequence ahead).
func TestCheckForRefusesCodeFromTheFuture(t *testing.T) {
	code := sampleCode(captureUDI)
	code.Entitlements = code.Entitlements[:2] // perpetual, undated
	text, err := Sign(serverKey(), code)
	if err != nil {
		t.Fatal(err)
	}
	ac, err := ParseAuthCode(text)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckFor(ac, captureUDI, time.Time{}, issued.Add(-MaxClockSkew)); err != nil {
		t.Errorf("a code one day ahead is refused: %v", err)
	}
	err = CheckFor(ac, captureUDI, time.Time{}, issued.Add(-MaxClockSkew-time.Millisecond))
	wantKind(t, err, ErrFuture)
	if !strings.Contains(err.Error(), "2020-03-04T10:30:00.123Z") || !strings.Contains(err.Error(), "date and time") {
		t.Errorf("refusal %q does not give the issue time and what to check", err)
	}
}

// Issue 10.3: a PERPETUAL licence that carries dates is held to them at
// install, as the reports hold it (they showed NOT AUTHORIZED after it
// installed).
func TestPerpetualWithDatesHeldToThem(t *testing.T) {
	code := sampleCode(captureUDI)
	code.Entitlements = code.Entitlements[:1]
	code.Entitlements[0].Start = time.Date(2020, time.March, 1, 0, 0, 0, 0, time.UTC)
	code.Entitlements[0].End = time.Date(2020, time.March, 31, 0, 0, 0, 0, time.UTC)
	text, err := Sign(serverKey(), code)
	if err != nil {
		t.Fatal(err)
	}
	ac, err := ParseAuthCode(text)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckFor(ac, captureUDI, time.Time{}, issued); err != nil {
		t.Errorf("in date: %v", err)
	}
	err = CheckFor(ac, captureUDI, time.Time{}, time.Date(2020, time.April, 1, 0, 0, 0, 0, time.UTC))
	wantKind(t, err, ErrExpired)
	if want := `The authorization code's PERPETUAL license "UC Manager Enhanced License (12.x)" expired on 2020-Mar-31 UTC`; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("refusal %q, want it to start %q", err, want)
	}
	if ac.Entitlements[0].InDate(time.Date(2020, time.March, 31, 23, 59, 0, 0, time.UTC)) != nil {
		t.Error("the end day is not included")
	}
}
