package publisher

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
)

// Actions that talk to the licensing server read a snapshot, make the call
// outside the state lock (other sessions keep working meanwhile), then
// record the outcome in one transaction.

// snapshot is the current state, with its timers brought up to date.
func (s *Service) snapshot() (*State, time.Time, error) {
	var (
		cp  *State
		now time.Time
	)
	err := s.update(func(st *State, t time.Time) error {
		cp, now = st, t
		return nil
	})
	return cp, now, err
}

// sameRegistration finds the registration an action started from; if
// another session changed it meanwhile, the action's result is dropped.
func sameRegistration(st *State, instance string) (*RegistrationState, error) {
	r := st.Registration
	if r == nil || r.InstanceID != instance {
		return nil, errRegistrationChanged
	}
	return r, nil
}

// RegisterResult is what a successful registration reports.
type RegisterResult struct {
	SmartAccount, VirtualAccount string
	// AuthErr is set when the first authorization failed; it is retried.
	AuthErr error
}

// Register registers the node with a token, then authorizes its usage.
// A refused registration leaves the state as it was; one the server did not
// answer is sent again with the next licensing command.
func (s *Service) Register(ctx context.Context, token string, force bool) (*RegisterResult, error) {
	err := s.call(ctx, cssmapi.PathRegister, func(st *State, now time.Time) (*callSpec, error) {
		if st.Reservation != nil {
			return nil, errReservationEnabled()
		}
		if r := st.Registration; r != nil && r.registrationValid(now) && !force {
			return nil, errAlreadyRegistered(r.SmartAccount, r.VirtualAccount)
		}
		return &callSpec{in: cssmapi.RegisterRequest{
			Token: token, UDI: st.Identity.UDI(), Hostname: s.profile.Hostname, Version: s.profile.Version, Force: force,
		}}, nil
	})
	if err != nil {
		return nil, err
	}
	st, _, err := s.snapshot()
	if err != nil {
		return nil, err
	}
	r := st.Registration
	if r == nil { // deregistered by another session meanwhile
		return nil, errRegistrationChanged
	}
	res := &RegisterResult{SmartAccount: r.SmartAccount, VirtualAccount: r.VirtualAccount}
	if err := s.authorize(ctx, r.InstanceID); err != nil {
		if isStateError(err) {
			return nil, err
		}
		res.AuthErr = err
	}
	return res, nil
}

// recordAuth keeps the outcome of an authorization renewal.
func recordAuth(st *State, r *RegistrationState, at time.Time, usage []cssmapi.Usage, resp *cssmapi.AuthorizeResponse, err error) {
	if err != nil {
		r.Auth.Last = &Attempt{At: at.UTC(), Reason: failureReason(err)}
		st.logEvent(at, "License authorization failed: %s", r.Auth.Last.Reason)
		return
	}
	t := at.UTC()
	r.Auth.Last = &Attempt{Succeeded: true, At: t}
	r.Auth.At = &t
	r.Auth.Status = resp.Status
	r.Auth.Reported = usage
	r.Auth.Entitlements = r.Auth.Entitlements[:0]
	for _, e := range resp.Entitlements {
		r.Auth.Entitlements = append(r.Auth.Entitlements, EntitlementGrant{
			Tag: e.Tag, DisplayName: e.DisplayName, Description: e.Description, Status: e.Status, BorrowedFrom: e.BorrowedFrom,
		})
	}
	if resp.Status == cssmapi.StatusOutOfCompliance {
		if r.Auth.ShortSince == nil {
			r.Auth.ShortSince = &t
			st.logEvent(at, "Out of compliance: the overage period of 90 days starts")
		}
	} else {
		r.Auth.ShortSince = nil
	}
	st.logEvent(at, "License authorization renewed: %s", resp.Status)
}

// RenewAuth renews the authorization now (license smart renew auth).
func (s *Service) RenewAuth(ctx context.Context) error {
	return s.authorize(ctx, "")
}

// authorize reports the usage for the registration instance ("": the
// current one).
func (s *Service) authorize(ctx context.Context, instance string) error {
	return s.call(ctx, cssmapi.PathAuthorize, func(st *State, now time.Time) (*callSpec, error) {
		r := st.Registration
		if r == nil || (instance != "" && r.InstanceID != instance) {
			return nil, errNotRegistered
		}
		usage := s.usageReport()
		if usage == nil {
			usage = []cssmapi.Usage{}
		}
		return &callSpec{r: r, in: cssmapi.AuthorizeRequest{InstanceID: r.InstanceID, Usage: usage}}, nil
	})
}

// RenewID renews the registration now (license smart renew ID).
func (s *Service) RenewID(ctx context.Context) error {
	return s.call(ctx, cssmapi.PathRenewID, func(st *State, now time.Time) (*callSpec, error) {
		r := st.Registration
		if r == nil {
			return nil, errNotRegistered
		}
		return &callSpec{r: r, in: cssmapi.InstanceRequest{InstanceID: r.InstanceID}}, nil
	})
}

// Deregister releases the node's licenses and returns it to evaluation
// mode. If the server has already forgotten the node, it deregisters
// locally; if the server does not answer, the deregistration is sent again
// with the next licensing command.
func (s *Service) Deregister(ctx context.Context) error {
	return s.call(ctx, cssmapi.PathDeregister, func(st *State, now time.Time) (*callSpec, error) {
		r := st.Registration
		if r == nil {
			if st.Reservation != nil {
				return nil, errUsesReservation()
			}
			return nil, errNotRegistered
		}
		return &callSpec{r: r, in: cssmapi.InstanceRequest{InstanceID: r.InstanceID}}, nil
	})
}

// SetTransport changes how the node reaches its licensing server.
func (s *Service) SetTransport(tc TransportConfig) error {
	return s.update(func(st *State, now time.Time) error {
		st.Transport = tc
		st.logEvent(now, "Transport set to %s", transportLabel(tc))
		return nil
	})
}

func transportLabel(tc TransportConfig) string {
	switch tc.Mode {
	case TransportModeProxy:
		return "proxy " + tc.ProxyHost
	case TransportModeSatellite:
		return "ssm-satellite " + tc.URL
	case TransportModeGateway:
		return "gateway " + tc.URL
	}
	return "direct"
}

// FactoryReset clears all licensing state but the node identity, the
// evaluation counter, the reservation sequence and the trace. The
// licensing server is not told.
func (s *Service) FactoryReset() error {
	return s.update(func(st *State, now time.Time) error {
		if c := st.Call; c != nil && s.live(c) {
			return errCallInProgress(callName(c.Path))
		}
		st.Transport = TransportConfig{}
		st.Registration = nil
		st.Reservation = nil // the reservation sequence (LastCodeTimestamp) stays
		st.Call = nil        // a call the server never answered is given up
		st.logEvent(now, "Factory reset: licensing state cleared")
		return nil
	})
}

// ExportRequest asks for an export authorization key. If the server cannot
// be reached the request is kept and retried.
func (s *Service) ExportRequest(ctx context.Context, feature string) error {
	return s.export(ctx, "request", feature)
}

// ExportReturn gives an export authorization key back.
func (s *Service) ExportReturn(ctx context.Context, feature string) error {
	return s.export(ctx, "return", feature)
}

func (s *Service) export(ctx context.Context, op, feature string) error {
	if feature != ExportFeature {
		return errUnknownFeature(feature)
	}
	path := cssmapi.PathExportRequest
	if op == "return" {
		path = cssmapi.PathExportReturn
	}
	return s.call(ctx, path, func(st *State, now time.Time) (*callSpec, error) {
		r := st.Registration
		switch {
		case st.Reservation != nil && st.Reservation.Code != nil:
			ac, _ := s.checkInstalled(st) // a code that no longer verifies allows nothing
			return nil, errExportByReservation(ac)
		case r == nil || !r.registrationValid(now):
			return nil, errNotRegistered
		case !r.ExportAllowed:
			return nil, errExportNotAllowed()
		case r.PendingExport != nil:
			return nil, errPendingExport(r.PendingExport)
		case op == "request" && r.holds(feature):
			return nil, errAlreadyHeld(feature)
		case op == "return" && !r.holds(feature):
			return nil, errNotHeld(feature)
		}
		return &callSpec{r: r, in: cssmapi.ExportRequest{InstanceID: r.InstanceID, Feature: feature}}, nil
	})
}

// retryExport sends a pending export request or return again, with the
// idempotency key of its first attempt.
func (s *Service) retryExport(ctx context.Context) error {
	var path string
	err := s.call(ctx, "", func(st *State, now time.Time) (*callSpec, error) {
		r := st.Registration
		if r == nil || r.PendingExport == nil || !exportDue(r, now) {
			return nil, nil // done or cancelled meanwhile
		}
		p := r.PendingExport
		path = cssmapi.PathExportRequest
		if p.Op == "return" {
			path = cssmapi.PathExportReturn
		}
		return &callSpec{path: path, r: r, key: p.Key, in: cssmapi.ExportRequest{InstanceID: r.InstanceID, Feature: p.Feature}}, nil
	})
	return err
}

// ExportCancel cancels a pending export request or return, and says which.
func (s *Service) ExportCancel() (*PendingExport, error) {
	var cancelled *PendingExport
	err := s.update(func(st *State, now time.Time) error {
		r := st.Registration
		if r == nil || r.PendingExport == nil {
			return errNoPending
		}
		cancelled = r.PendingExport
		r.PendingExport = nil
		st.logEvent(now, "Export authorization key %s: pending %s cancelled", cancelled.Feature, cancelled.Op)
		return nil
	})
	return cancelled, err
}

// runDue performs the renewals and retries that are due at now. Their
// failures are recorded in the state and shown by the reports; only a
// state that cannot be read or written is an error here. A call whose
// answer was lost is settled first; while it is unsettled, or another
// session makes a call, nothing else is sent.
func (s *Service) runDue(ctx context.Context) error {
	if err := s.settle(ctx); isStateError(err) {
		return err
	}
	st, now, err := s.snapshot()
	if err != nil || st.Call != nil {
		return err
	}
	r := st.Registration
	if r == nil || !r.registrationValid(now) {
		return nil
	}
	if renewalDue(r, now) {
		if err := s.RenewID(ctx); isStateError(err) {
			return err
		}
	}
	if s.authDue(r, now) {
		if err := s.authorize(ctx, r.InstanceID); isStateError(err) {
			return err
		}
	}
	if exportDue(r, now) {
		if err := s.retryExport(ctx); isStateError(err) {
			return err
		}
	}
	return nil
}

// What runDue does, condition by condition (ReportDue asks the same).

func renewalDue(r *RegistrationState, now time.Time) bool { return !now.Before(r.nextRenewal()) }

// authDue: the authorization is due for renewal, or the usage changed
// since it was last reported.
func (s *Service) authDue(r *RegistrationState, now time.Time) bool {
	return !now.Before(r.nextAuth()) || !slices.Equal(r.Auth.Reported, s.usageReport())
}

func exportDue(r *RegistrationState, now time.Time) bool {
	p := r.PendingExport
	return p != nil && !now.Before(p.Last.At.Add(RetryAfter))
}

func isStateError(err error) bool {
	var se *StateError
	var sv *SaveError
	return errors.As(err, &se) || errors.As(err, &sv)
}
