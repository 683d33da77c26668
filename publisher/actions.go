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
// A refused or failed registration leaves the state as it was.
func (s *Service) Register(ctx context.Context, token string, force bool) (*RegisterResult, error) {
	st, now, err := s.snapshot()
	if err != nil {
		return nil, err
	}
	if st.Reservation != nil {
		return nil, errReservationEnabled()
	}
	if r := st.Registration; r != nil && r.registrationValid(now) && !force {
		return nil, errAlreadyRegistered(r.SmartAccount, r.VirtualAccount)
	}
	c := s.client(st.Transport)
	resp, err := c.Register(ctx, cssmapi.RegisterRequest{
		Token: token, UDI: st.Identity.UDI(), Hostname: s.profile.Hostname, Version: s.profile.Version, Force: force,
	})
	if err != nil {
		return nil, serverError(c.BaseURL, err)
	}
	reg := &RegistrationState{
		InstanceID: resp.InstanceID, Credential: resp.Credential,
		SmartAccount: resp.SmartAccount, VirtualAccount: resp.VirtualAccount, ExportAllowed: resp.ExportAllowed,
		At: now.UTC(), RenewedAt: now.UTC(),
	}
	usage := s.usageReport()
	auth, authErr := c.Authorize(ctx, identityOf(reg), usage)
	err = s.update(func(st *State, _ time.Time) error {
		if st.Reservation != nil { // enabled by another session meanwhile
			return errReservationEnabled()
		}
		st.Registration = reg
		st.logEvent(now, "Registered with Smart Account %s, Virtual Account %s", reg.SmartAccount, reg.VirtualAccount)
		recordAuth(st, reg, now, usage, auth, authErr)
		return nil
	})
	if err != nil {
		return nil, err
	}
	res := &RegisterResult{SmartAccount: reg.SmartAccount, VirtualAccount: reg.VirtualAccount}
	if authErr != nil {
		res.AuthErr = serverError(c.BaseURL, authErr)
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
	st, r, now, err := s.registered()
	if err != nil {
		return err
	}
	return s.renewAuth(ctx, st, r, now)
}

// registered is a snapshot of a registered node.
func (s *Service) registered() (*State, *RegistrationState, time.Time, error) {
	st, now, err := s.snapshot()
	if err == nil && st.Registration == nil {
		err = errNotRegistered
	}
	if err != nil {
		return nil, nil, now, err
	}
	return st, st.Registration, now, nil
}

func (s *Service) renewAuth(ctx context.Context, st *State, r *RegistrationState, now time.Time) error {
	c := s.client(st.Transport)
	usage := s.usageReport()
	resp, callErr := c.Authorize(ctx, identityOf(r), usage)
	return s.record(r, c.BaseURL, callErr, func(st *State, cur *RegistrationState) {
		recordAuth(st, cur, now, usage, resp, callErr)
	})
}

// record keeps the outcome of a call made for registration r (success or
// failure alike), then reports the call's failure in the user's terms.
func (s *Service) record(r *RegistrationState, server string, callErr error, apply func(st *State, cur *RegistrationState)) error {
	err := s.update(func(st *State, _ time.Time) error {
		cur, err := sameRegistration(st, r.InstanceID)
		if err != nil {
			return err
		}
		apply(st, cur)
		return nil
	})
	if err != nil {
		return err
	}
	if callErr != nil {
		return serverError(server, callErr)
	}
	return nil
}

// RenewID renews the registration now (license smart renew ID).
func (s *Service) RenewID(ctx context.Context) error {
	st, r, now, err := s.registered()
	if err != nil {
		return err
	}
	return s.renewID(ctx, st, r, now)
}

func (s *Service) renewID(ctx context.Context, st *State, r *RegistrationState, now time.Time) error {
	c := s.client(st.Transport)
	resp, callErr := c.RenewID(ctx, identityOf(r))
	return s.record(r, c.BaseURL, callErr, func(st *State, cur *RegistrationState) {
		if callErr != nil {
			cur.LastRenewal = &Attempt{At: now.UTC(), Reason: failureReason(callErr)}
			st.logEvent(now, "Registration renewal failed: %s", cur.LastRenewal.Reason)
			return
		}
		cur.LastRenewal = &Attempt{Succeeded: true, At: now.UTC()}
		cur.RenewedAt = now.UTC()
		cur.SmartAccount, cur.VirtualAccount, cur.ExportAllowed = resp.SmartAccount, resp.VirtualAccount, resp.ExportAllowed
		st.logEvent(now, "Registration renewed")
	})
}

// Deregister releases the node's licenses and returns it to evaluation
// mode. If the server has already forgotten the node, it deregisters
// locally; if the server cannot be reached, nothing changes.
func (s *Service) Deregister(ctx context.Context) error {
	st, now, err := s.snapshot()
	if err != nil {
		return err
	}
	r := st.Registration
	if r == nil {
		if st.Reservation != nil {
			return errUsesReservation()
		}
		return errNotRegistered
	}
	c := s.client(st.Transport)
	if err := c.Deregister(ctx, identityOf(r)); err != nil && !forgotten(err) {
		return serverError(c.BaseURL, err)
	}
	return s.update(func(st *State, _ time.Time) error {
		if _, err := sameRegistration(st, r.InstanceID); err != nil {
			return err
		}
		st.Registration = nil
		st.logEvent(now, "Deregistered from Smart Account %s, Virtual Account %s", r.SmartAccount, r.VirtualAccount)
		return nil
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
	}
	return "direct"
}

// FactoryReset clears all licensing state but the node identity, the
// evaluation counter, the reservation sequence and the trace. The
// licensing server is not told.
func (s *Service) FactoryReset() error {
	return s.update(func(st *State, now time.Time) error {
		st.Transport = TransportConfig{}
		st.Registration = nil
		st.Reservation = nil // the reservation sequence (LastCodeTimestamp) stays
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
	st, now, err := s.snapshot()
	if err != nil {
		return err
	}
	r := st.Registration
	switch {
	case st.Reservation != nil && st.Reservation.Code != nil:
		ac, _ := s.checkInstalled(st) // a code that no longer verifies allows nothing
		return errExportByReservation(ac)
	case r == nil || !r.registrationValid(now):
		return errNotRegistered
	case !r.ExportAllowed:
		return errExportNotAllowed()
	case r.PendingExport != nil:
		return errPendingExport(r.PendingExport)
	case op == "request" && r.holds(feature):
		return errAlreadyHeld(feature)
	case op == "return" && !r.holds(feature):
		return errNotHeld(feature)
	}
	return s.callExport(ctx, st, r, &PendingExport{Op: op, Feature: feature}, now)
}

// callExport makes an export call and records its outcome; an unreachable
// server leaves it pending for a retry.
func (s *Service) callExport(ctx context.Context, st *State, r *RegistrationState, p *PendingExport, now time.Time) error {
	c := s.client(st.Transport)
	var (
		resp    *cssmapi.ExportResponse
		callErr error
	)
	if p.Op == "request" {
		resp, callErr = c.ExportRequest(ctx, identityOf(r), p.Feature)
	} else {
		resp, callErr = c.ExportReturn(ctx, identityOf(r), p.Feature)
	}
	unreachable := errors.Is(callErr, cssmapi.ErrUnreachable)
	err := s.update(func(st *State, _ time.Time) error {
		cur, err := sameRegistration(st, r.InstanceID)
		if err != nil {
			return err
		}
		switch {
		case callErr == nil:
			cur.ExportKeys = slices.Clone(resp.Features)
			cur.PendingExport = nil
			st.logEvent(now, "Export authorization key %s: %s succeeded", p.Feature, p.Op)
		case unreachable:
			cur.PendingExport = &PendingExport{Op: p.Op, Feature: p.Feature, Last: Attempt{At: now.UTC(), Reason: failureReason(callErr)}}
			st.logEvent(now, "Export authorization key %s: %s failed (%s); it will be retried", p.Feature, p.Op, reasonSendError)
		default:
			cur.PendingExport = nil // refused: retrying would not help
			st.logEvent(now, "Export authorization key %s: %s refused: %s", p.Feature, p.Op, failureReason(callErr))
		}
		return nil
	})
	switch {
	case err != nil:
		return err
	case unreachable:
		return errExportKept(serverError(c.BaseURL, callErr), p.Op)
	case callErr != nil:
		return serverError(c.BaseURL, callErr)
	}
	return nil
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
// state that cannot be read or written is an error here.
func (s *Service) runDue(ctx context.Context) error {
	st, now, err := s.snapshot()
	if err != nil {
		return err
	}
	r := st.Registration
	if r == nil || !r.registrationValid(now) {
		return nil
	}
	if renewalDue(r, now) {
		if err := s.renewID(ctx, st, r, now); isStateError(err) {
			return err
		}
	}
	if s.authDue(r, now) {
		if err := s.renewAuth(ctx, st, r, now); isStateError(err) {
			return err
		}
	}
	if exportDue(r, now) {
		if err := s.callExport(ctx, st, r, r.PendingExport, now); isStateError(err) {
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
