package publisher

import (
	"crypto/ecdsa"
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

// udi is the node's identity in the reservation codes' terms.
func (st *State) udi() reservation.UDI { return st.Identity.reservationUDI() }

// installed parses the installed code; a node only stores codes it parsed.
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
			return errRegistrationInProgress
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
// install-file can stop before asking for passwords.
func (s *Service) ReservationReady() error {
	return s.store.View(func(st *State) error { return readyToInstall(st.Reservation) })
}

// ReservationInstall installs an authorization code (or a newer one, to
// update the reservation) and returns the confirmation code for CSSM.
func (s *Service) ReservationInstall(text string) (string, error) {
	keys, kerr := reservation.LoadTrustDir(statedir.Node(s.store.Dir()).Trust())
	var confirmation string
	err := s.update(func(st *State, now time.Time) error {
		r := st.Reservation
		if err := readyToInstall(r); err != nil {
			return err
		}
		ac, err := verified(text, keys, kerr)
		if err != nil {
			return err
		}
		if err := reservation.CheckFor(ac, st.udi(), st.LastCodeTimestamp, now); err != nil {
			return err
		}
		confirmation = reservation.ConfirmationCode(ac)
		update := r.Code != nil
		r.Code = &InstalledCode{Text: reservation.NormalizeAuthCode(text), InstalledAt: now.UTC(), Confirmation: confirmation}
		r.Requested = false
		st.LastCodeTimestamp = ac.Timestamp
		if update {
			st.logEvent(now, "Reservation updated; confirmation code %s", confirmation)
		} else {
			st.logEvent(now, "Reservation authorization code installed; confirmation code %s", confirmation)
		}
		return nil
	})
	return confirmation, err
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
		code = reservation.ReturnCode(ac)
		st.Reservation = nil
		st.logEvent(now, "Reservation returned; return code %s", code)
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
		ac, err := verified(text, keys, kerr)
		if err != nil {
			return err
		}
		// Only the UDI matters: an old or lapsed code can still be returned.
		if err := reservation.CheckFor(ac, st.udi(), time.Time{}, ac.Timestamp); err != nil {
			return err
		}
		code = reservation.ReturnCode(ac)
		r.Requested = false
		st.logEvent(now, "Return code generated for an authorization code never installed: %s", code)
		return nil
	})
	return code, err
}
