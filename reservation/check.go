package reservation

import "time"

// CheckFor decides whether a verified code may be installed on the node
// with the given UDI: it must name that node, be newer than the code last
// installed (lastTimestamp, zero if none: stops replaying an old code to
// undo a later change), and its TERM licences must be in date at now.
// Checks run in that order, so the first error is the most basic one.
func CheckFor(ac *AuthCode, udi UDI, lastTimestamp, now time.Time) error {
	want, err := ParseUDI(udi.String()) // canonical case
	if err != nil {
		want = udi
	}
	if ac.UDI != want {
		return newErr(ErrWrongUDI, msgWrongUDI, RequestCode(ac.UDI), RequestCode(want))
	}
	if !ac.Timestamp.After(lastTimestamp) {
		return newErr(ErrStale, msgStale, stamp(ac.Timestamp), stamp(lastTimestamp))
	}
	for _, e := range ac.Entitlements {
		if e.Type != LicenseTerm {
			continue
		}
		name := e.DisplayName
		if name == "" {
			name = e.Tag
		}
		if now.Before(e.Start) {
			return newErr(ErrExpired, msgTermFuture, name, formatDate(e.Start))
		}
		// The end day is included: the licence lapses at the next midnight UTC.
		if !now.Before(e.End.AddDate(0, 0, 1)) {
			return newErr(ErrExpired, msgTermExpired, name, formatDate(e.End))
		}
	}
	return nil
}

// stamp shows an issue time to the millisecond, the code's precision, so
// two codes issued in the same second still read differently.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}
