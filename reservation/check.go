package reservation

import "time"

// MaxClockSkew is how far ahead of the node's clock a code's issue time may
// be. Further ahead, either the node's clock is wrong or the code is not
// what it seems; installing it would also push the reservation sequence
// into the future, refusing every honest code issued until then.
const MaxClockSkew = 24 * time.Hour

// CheckFor decides whether a verified code may be installed on the node
// with the given UDI at now: it must name that node, not be issued more
// than MaxClockSkew ahead of now, be newer than the code last installed
// (lastTimestamp, zero if none: stops replaying an old code to undo a later
// change), and every dated licence must be in date at now. Checks run in
// that order, so the first error is the most basic one.
func CheckFor(ac *AuthCode, udi UDI, lastTimestamp, now time.Time) error {
	if err := CheckUDI(ac, udi); err != nil {
		return err
	}
	if ac.Timestamp.After(now.Add(MaxClockSkew)) {
		return newErr(ErrFuture, msgFuture, stamp(ac.Timestamp), stamp(now))
	}
	if !ac.Timestamp.After(lastTimestamp) {
		return newErr(ErrStale, msgStale, stamp(ac.Timestamp), stamp(lastTimestamp))
	}
	for i := range ac.Entitlements {
		if err := ac.Entitlements[i].InDate(now); err != nil {
			return err
		}
	}
	return nil
}

// CheckUDI says whether the code names the node with the given UDI.
func CheckUDI(ac *AuthCode, udi UDI) error {
	want, err := ParseUDI(udi.String()) // canonical case
	if err != nil {
		want = udi
	}
	if ac.UDI != want {
		return newErr(ErrWrongUDI, msgWrongUDI, RequestCode(ac.UDI), RequestCode(want))
	}
	return nil
}

// InDate says whether the licence may be used at now. The dates bound it
// whatever its type: a TERM licence always has both, and a PERPETUAL one
// that carries dates is held to them too, at install as in the reports.
// The end day is included: the licence lapses at the next midnight UTC.
func (e *Entitlement) InDate(now time.Time) error {
	name := e.DisplayName
	if name == "" {
		name = e.Tag
	}
	if !e.Start.IsZero() && now.Before(e.Start) {
		return newErr(ErrExpired, msgTermFuture, e.Type, name, formatDate(e.Start))
	}
	if !e.End.IsZero() && !now.Before(e.End.AddDate(0, 0, 1)) {
		return newErr(ErrExpired, msgTermExpired, e.Type, name, formatDate(e.End))
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
