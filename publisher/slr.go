package publisher

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ucmsh/ucmsh/internal/statedir"

	"github.com/ucmsh/ucmsh/reservation"
)

// Specific License Reservation: an air-gapped node holds a signed
// authorization code instead of a registration.

// ReservationState is set while reservation mode is enabled.
type ReservationState struct {
	// Requested: a request code was generated and no code answers it yet.
	Requested bool `json:"requested,omitempty"`
	// Code is the installed authorization code, if any.
	Code *InstalledCode `json:"code,omitempty"`
}

// InstalledCode is an authorization code the node accepted. Only its text
// is kept; everything else is read from it.
type InstalledCode struct {
	Text         string    `json:"text"` // as received, line breaks removed
	InstalledAt  time.Time `json:"installed_at"`
	Confirmation string    `json:"confirmation_code"`
}

// ReturnedCode is a code whose licenses went back to CSSM (return, or
// return-authorization): it never installs on this node again.
type ReturnedCode struct {
	Issued     time.Time `json:"issued"` // the code's timestamp
	ReturnCode string    `json:"return_code"`
	ReturnedAt time.Time `json:"returned_at"`
}

// maxReturned bounds the list; older returned codes are refused anyway,
// as the sequence (LastCodeTimestamp) has moved past them.
const maxReturned = 32

// recordReturn makes ac's return code, moves the reservation sequence past
// ac and remembers the code, so installing ac again is refused with the
// reason; event (with the code for its %s) goes into the event log.
func (st *State) recordReturn(ac *reservation.AuthCode, now time.Time, event string) string {
	code := reservation.ReturnCode(ac)
	if ac.Timestamp.After(st.LastCodeTimestamp) {
		st.LastCodeTimestamp = ac.Timestamp
	}
	if st.returned(code) == nil {
		st.Returned = append(st.Returned, ReturnedCode{Issued: ac.Timestamp, ReturnCode: code, ReturnedAt: now.UTC()})
		if n := len(st.Returned) - maxReturned; n > 0 {
			st.Returned = append([]ReturnedCode(nil), st.Returned[n:]...)
		}
	}
	st.logEvent(now, event, code)
	return code
}

// returned finds a returned code by its return code.
func (st *State) returned(returnCode string) *ReturnedCode {
	for i := range st.Returned {
		if st.Returned[i].ReturnCode == returnCode {
			return &st.Returned[i]
		}
	}
	return nil
}

// udi is the node's identity in the reservation codes' terms.
func (st *State) udi() reservation.UDI { return st.Identity.reservationUDI() }

// installed parses the installed code without checking it: enough to
// return it (CSSM checks the return code against what it issued). Whatever
// grants licenses uses Service.checkInstalled instead.
func (r *ReservationState) installed() *reservation.AuthCode {
	if r == nil || r.Code == nil {
		return nil
	}
	ac, err := reservation.ParseAuthCode(r.Code.Text)
	if err != nil {
		return nil
	}
	return ac
}

// ReservationEnable enters reservation mode (RESERVATION IN PROGRESS).
func (s *Service) ReservationEnable() error {
	return s.update(func(st *State, now time.Time) error {
		switch {
		case st.Registration != nil && st.Registration.registrationValid(now):
			return errRegisteredNoReservation
		case st.Reservation != nil:
			return errReservationAlreadyEnabled
		case st.registering():
			return s.slotFree(st) // the registration's outcome comes first
		}
		st.Registration = nil // an expired registration goes with it
		st.Reservation = &ReservationState{}
		st.logEvent(now, "License reservation mode enabled")
		return nil
	})
}

// ReservationDisable leaves reservation mode when no code is installed.
func (s *Service) ReservationDisable() error {
	return s.update(func(st *State, now time.Time) error {
		switch {
		case st.Reservation == nil:
			return errReservationNotEnabled()
		case st.Reservation.Code != nil:
			return errReservationInstalled()
		}
		st.Reservation = nil
		st.logEvent(now, "License reservation mode disabled")
		return nil
	})
}

// ReservationRequest returns the request code to enter in CSSM.
func (s *Service) ReservationRequest() (string, error) {
	var code string
	err := s.update(func(st *State, now time.Time) error {
		switch {
		case st.Reservation == nil:
			return errReservationNotEnabled()
		case st.Reservation.Code != nil:
			return errRequestWhileReserved
		}
		code = reservation.RequestCode(st.udi())
		if !st.Reservation.Requested {
			st.Reservation.Requested = true
			st.logEvent(now, "Reservation request code generated: %s", code)
		}
		return nil
	})
	return code, err
}

// ReservationCancel cancels a request no code answers yet.
func (s *Service) ReservationCancel() error {
	return s.update(func(st *State, now time.Time) error {
		switch {
		case st.Reservation == nil:
			return errReservationNotEnabled()
		case st.Reservation.Code != nil:
			return errReservationInstalled()
		case !st.Reservation.Requested:
			return errNoRequest
		}
		st.Reservation.Requested = false
		st.logEvent(now, "Reservation request cancelled")
		return nil
	})
}

// verified parses a code and checks its signature with the trusted keys
// (keysErr: why they could not be read).
func verified(text string, keys []*ecdsa.PublicKey, keysErr error) (*reservation.AuthCode, error) {
	ac, err := reservation.ParseAuthCode(text)
	if err != nil {
		return nil, err
	}
	if keysErr != nil {
		return nil, keysErr
	}
	if err := reservation.Verify(ac, keys); err != nil {
		return nil, err
	}
	return ac, nil
}

// verifiedFor is verified, for a code that must name this node's UDI.
func verifiedFor(text string, st *State, keys []*ecdsa.PublicKey, keysErr error) (*reservation.AuthCode, error) {
	ac, err := verified(text, keys, keysErr)
	if err != nil {
		return nil, err
	}
	if err := reservation.CheckUDI(ac, st.udi()); err != nil {
		return nil, err
	}
	return ac, nil
}

// checkInstalled verifies the installed code again, as at install: the
// signature against trust/ as it is now, this node's UDI, and the
// reservation sequence (it must be the newest code installed). A state file
// edited by hand (counts, UDI, export flag) or a key removed from trust/
// makes it grant nothing. Dates are checked per licence by the report.
// Results are remembered for the same code, keys and node, so a report
// costs one read of trust/, not a signature check.
func (s *Service) checkInstalled(st *State) (*reservation.AuthCode, error) {
	code := st.Reservation.Code
	keys, kerr := reservation.LoadTrustDir(statedir.Node(s.store.Dir()).Trust())
	memo := installedMemoKey(code.Text, st.udi(), st.LastCodeTimestamp, keys, kerr)
	if v, ok := installedMemo.Load(memo); ok {
		r := v.(installedResult)
		return r.ac, r.err
	}
	ac, err := verifyInstalled(code.Text, st, keys, kerr)
	if installedMemoSize.Add(1) > maxInstalledMemo {
		installedMemo.Clear() // bounded: a long-running server sees few codes
		installedMemoSize.Store(1)
	}
	installedMemo.Store(memo, installedResult{ac, err})
	return ac, err
}

func verifyInstalled(text string, st *State, keys []*ecdsa.PublicKey, kerr error) (*reservation.AuthCode, error) {
	ac, err := verifiedFor(text, st, keys, kerr)
	if err != nil {
		return nil, err
	}
	if !ac.Timestamp.Equal(st.LastCodeTimestamp) {
		return nil, errNotNewestCode(ac.Timestamp, st.LastCodeTimestamp)
	}
	return ac, nil
}

type installedResult struct {
	ac  *reservation.AuthCode // shared: callers only read it
	err error
}

const maxInstalledMemo = 64

var (
	installedMemo     sync.Map // installedMemoKey -> installedResult
	installedMemoSize atomic.Int64
)

// installedMemoKey covers every input of verifyInstalled.
func installedMemoKey(text string, udi reservation.UDI, last time.Time, keys []*ecdsa.PublicKey, kerr error) [sha256.Size]byte {
	h := sha256.New()
	for _, part := range []string{text, udi.String(), last.UTC().Format(time.RFC3339Nano), fmt.Sprint(kerr)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	for _, k := range keys {
		if der, err := x509.MarshalPKIXPublicKey(k); err == nil {
			h.Write(der)
		}
		h.Write([]byte{0})
	}
	return [sha256.Size]byte(h.Sum(nil))
}

// readyToInstall: a code answers a request, or updates an installed code.
func readyToInstall(r *ReservationState) error {
	switch {
	case r == nil:
		return errReservationNotEnabled()
	case r.Code == nil && !r.Requested:
		return errNoRequestCode
	}
	return nil
}

// ReservationReady says whether a code could be installed now, so
// install-file stops before asking for passwords.
func (s *Service) ReservationReady() error {
	return s.store.View(func(st *State) error { return readyToInstall(st.Reservation) })
}

// ReservationInstall installs an authorization code (or a newer one, to
// update the reservation) and returns the confirmation code for CSSM, and
// whether the code replaced an installed one (decided in the transaction
// that installs it, so a concurrent install cannot make it wrong).
func (s *Service) ReservationInstall(text string) (confirmation string, updated bool, err error) {
	keys, kerr := reservation.LoadTrustDir(statedir.Node(s.store.Dir()).Trust())
	err = s.update(func(st *State, now time.Time) error {
		r := st.Reservation
		if err := readyToInstall(r); err != nil {
			return err
		}
		ac, err := verifiedFor(text, st, keys, kerr)
		if err != nil {
			return err
		}
		if rc := st.returned(reservation.ReturnCode(ac)); rc != nil {
			return errCodeReturned(rc)
		}
		if err := reservation.CheckFor(ac, st.udi(), st.LastCodeTimestamp, now); err != nil {
			return err
		}
		confirmation = reservation.ConfirmationCode(ac)
		updated = r.Code != nil
		r.Code = &InstalledCode{Text: reservation.NormalizeAuthCode(text), InstalledAt: now.UTC(), Confirmation: confirmation}
		r.Requested = false
		st.LastCodeTimestamp = ac.Timestamp
		if updated {
			st.logEvent(now, "Reservation updated; confirmation code %s", confirmation)
		} else {
			st.logEvent(now, "Reservation authorization code installed; confirmation code %s", confirmation)
		}
		return nil
	})
	if err != nil {
		return "", false, err
	}
	return confirmation, updated, nil
}

// ReservationReturn removes the installed code and returns the return code
// that gives its licenses back in CSSM. Reservation mode ends with it.
func (s *Service) ReservationReturn() (string, error) {
	var code string
	err := s.update(func(st *State, now time.Time) error {
		if st.Reservation == nil {
			return errReservationNotEnabled()
		}
		ac := st.Reservation.installed()
		if ac == nil {
			return errNothingToReturn
		}
		code = st.recordReturn(ac, now, "Reservation returned; return code %s")
		st.Reservation = nil
		return nil
	})
	return code, err
}

// ReservationReturnAuthorization returns the licenses of a code that was
// generated for this node but never installed.
func (s *Service) ReservationReturnAuthorization(text string) (string, error) {
	keys, kerr := reservation.LoadTrustDir(statedir.Node(s.store.Dir()).Trust())
	var code string
	err := s.update(func(st *State, now time.Time) error {
		r := st.Reservation
		switch {
		case r == nil:
			return errReservationNotEnabled()
		case r.Code != nil:
			return errReturnInstalledInstead
		}
		// Only the UDI matters: an old or lapsed code can still be returned,
		// and returning one twice gives the same return code again.
		ac, err := verifiedFor(text, st, keys, kerr)
		if err != nil {
			return err
		}
		code = st.recordReturn(ac, now, "Return code generated for an authorization code never installed: %s")
		r.Requested = false
		return nil
	})
	return code, err
}
