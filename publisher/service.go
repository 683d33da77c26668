package publisher

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
	"github.com/ucmsh/ucmsh/reservation"
)

// Service is the Smart License Manager that runs on the publisher. Every
// method is one store transaction; a failed precondition writes nothing.
type Service struct {
	store   *Store
	clock   Clock
	profile *Profile
	// NewIdentity makes the node's identity when its state is created;
	// tests replace it to get a known UDI.
	NewIdentity func() (Identity, error)
	// DirectURL is Cisco's licensing service, used by the direct and proxy
	// transports; tests point it at a local cssm.
	DirectURL string
	// PinnedCertSHA256, when set, is the only TLS certificate accepted
	// from an https licensing server (a self-signed cssm).
	PinnedCertSHA256 string
	// Wall is the system clock, for how long another process may own a
	// call to the licensing server (never for licensing timers).
	Wall Clock
	// InstallFile says how install-file logs in (zero: as a server must).
	InstallFile InstallFileConfig
}

// NewService wires the service to its state, clock and node profile.
func NewService(store *Store, clock Clock, profile *Profile) *Service {
	return &Service{store: store, clock: clock, profile: profile, NewIdentity: NewIdentity, DirectURL: DefaultTransportURL, Wall: systemClock}
}

// Store is where the service keeps its state.
func (s *Service) Store() *Store { return s.store }

// update runs fn on the current state after bringing the timers up to now.
// Timers are brought up to date even if fn then fails, as a real agent's
// would be; fn's own changes are only kept if it succeeds.
func (s *Service) update(fn func(st *State, now time.Time) error) error {
	return s.store.Update(func(st *State) error {
		// Read under the lock: sessions that queue for it then see the
		// clock move forward in the order their transactions commit.
		read := s.clock.Now()
		if err := s.ensure(st, read); err != nil {
			return err
		}
		now := st.monotonic(read)
		st.trackEvaluation(now, s.evaluationShouldRun(st, now))
		if fn == nil {
			return nil
		}
		if err := fn(st, now); err != nil {
			return err
		}
		// fn may have registered or deregistered the node.
		st.trackEvaluation(now, s.evaluationShouldRun(st, now))
		return nil
	})
}

// ensure creates the node's licensing state the first time it is used.
func (s *Service) ensure(st *State, now time.Time) error {
	if st.Version != 0 {
		return nil
	}
	id, err := s.NewIdentity()
	if err != nil {
		return err
	}
	*st = State{Version: SchemaVersion, Identity: id, Created: now.UTC()}
	st.logEvent(now, "Smart Licensing initialised; node %s", id.UDI())
	return nil
}

// evaluationShouldRun: the counter runs while the node consumes licenses
// and has no authorization of its own: unregistered, registration
// expired, or registered but never yet authorized.
func (s *Service) evaluationShouldRun(st *State, now time.Time) bool {
	if !s.profile.InUse() || (st.Reservation != nil && st.Reservation.Code != nil) {
		return false
	}
	r := st.Registration
	return r == nil || !r.registrationValid(now) || r.Auth.At == nil
}

// Init creates the state if needed and brings its timers up to date.
func (s *Service) Init() error { return s.update(nil) }

// RunDue does whatever the licensing timers say is due now. A long-running
// server (ucmsh serve) calls it periodically; shells do it before each
// licensing command.
func (s *Service) RunDue(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.runDue(ctx)
}

// Report describes the licensing state now.
func (s *Service) Report() (*Report, error) {
	var r *Report
	err := s.update(func(st *State, now time.Time) error {
		r = s.report(st, now)
		return nil
	})
	return r, err
}

// ReportDue is RunDue followed by Report. Performance: when nothing is due
// (nearly always) both happen in one store transaction instead of two; the
// state written and the report are the same as the two calls'.
func (s *Service) ReportDue(ctx context.Context) (*Report, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var r *Report
	err := s.update(func(st *State, now time.Time) error {
		if s.anythingDue(st, now) {
			return errDue // nothing is kept; RunDue does it all again
		}
		r = s.report(st, now)
		return nil
	})
	if errors.Is(err, errDue) {
		if err := s.RunDue(ctx); err != nil {
			return nil, err
		}
		return s.Report()
	}
	return r, err
}

var errDue = errors.New("licensing timers are due")

// anythingDue reports whether runDue would call the licensing server at
// now, on the state its snapshot would see (the same conditions).
func (s *Service) anythingDue(st *State, now time.Time) bool {
	if st.Call != nil {
		return !s.live(st.Call) // a lost answer to settle
	}
	r := st.Registration
	if r == nil || !r.registrationValid(now) {
		return false
	}
	return renewalDue(r, now) || s.authDue(r, now) || exportDue(r, now)
}

func (s *Service) report(st *State, now time.Time) *Report {
	r := &Report{
		SmartLicensing: SmartLicensingEnabled,
		Registration:   Registration{Status: Unregistered, ExportControlled: ExportNotAllowed},
		Transport:      Transport{Type: TransportDirect, URL: s.serverURL(st.Transport)},
		Reservation:    Reservation{Status: ReservationDisabled},
		ExportKeys:     []string{},
		UDI:            st.Identity.UDI(),
		AgentVersion:   AgentVersion,
		Events:         append([]Event{}, st.Events...),
		Now:            now,
		Location:       s.profile.Location(),
	}
	switch st.Transport.Mode {
	case TransportModeProxy:
		r.Transport = Transport{Type: TransportProxy, URL: r.Transport.URL, Proxy: st.Transport.ProxyHost + ":" + itoa(st.Transport.ProxyPort), ProxyUser: st.Transport.ProxyUser}
	case TransportModeSatellite:
		r.Transport.Type = TransportSatellite
	case TransportModeGateway:
		r.Transport.Type = TransportGateway
	}
	ev := &st.Evaluation
	remaining := ev.Remaining(now)
	r.Evaluation = EvalStatus{InUse: ev.Running(), Remaining: remaining, ExpiredAt: ev.ExpiredAt}

	if res := st.Reservation; res != nil {
		r.Reservation.Status = ReservationEnabled
		r.Registration.Status = ReservationInProgress
		if res.Requested {
			r.Reservation.RequestCode = reservation.RequestCode(st.udi())
		}
		if res.Code != nil {
			ac, err := s.checkInstalled(st)
			s.reservedReport(r, res.Code, ac, err, now)
			return r
		}
	}
	reg := st.Registration
	if reg != nil {
		s.registrationReport(r, reg, now)
		if reg.registrationValid(now) && reg.Auth.At != nil {
			s.authorizedReport(r, reg, now)
			return r
		}
	}

	// Evaluation: unregistered, registration expired, or not yet authorized.
	inUse := s.profile.InUse()
	entStatus := EntEval
	switch {
	case !inUse:
		r.Authorization.Status = AuthNoLicensesInUse
		r.Usage.AuthorizationStatus = AuthNoLicensesInUse
	case ev.ExpiredAt != nil:
		r.Authorization.Status, r.Authorization.Since = AuthEvalExpired, ev.ExpiredAt
		r.Usage = Usage{AuthorizationStatus: AuthEvalExpired, AsOf: ev.ExpiredAt}
		entStatus = EntNotAuthorized
	default:
		r.Authorization.Status, r.Authorization.EvaluationRemaining = AuthEvalMode, &remaining
		r.Usage.AuthorizationStatus = UsageEvaluationMode
	}
	s.entitlements(r, func(n int, _ *EntitlementGrant) string {
		if n == 0 {
			return EntInit
		}
		return entStatus
	}, nil)
	return r
}

// reservedReport describes a node living on a reservation: no tier
// borrowing, each license type stands on its reserved count alone. A code
// that no longer verifies (verr) grants nothing.
func (s *Service) reservedReport(r *Report, code *InstalledCode, ac *reservation.AuthCode, verr error, now time.Time) {
	at := code.InstalledAt
	r.Registration.Status = RegisteredSLR
	r.Reservation.InstalledAt, r.Reservation.ConfirmationCode = &at, code.Confirmation
	if verr != nil {
		r.Reservation.VerificationFailure = verr.Error()
		ac = &reservation.AuthCode{}
	}
	if ac.ExportAllowed {
		r.Registration.ExportControlled = ExportAllowed
		r.ExportKeys = append(r.ExportKeys, ExportFeature)
	}
	reserved := map[string]*reservation.Entitlement{}
	for i := range ac.Entitlements {
		e := &ac.Entitlements[i]
		reserved[e.Tag] = e
		rl := ReservedLicense{Tag: e.Tag, DisplayName: e.DisplayName, Count: e.Count, Type: e.Type}
		if !e.End.IsZero() {
			end := e.End
			rl.EndDate = &end
		}
		r.Reservation.Licenses = append(r.Reservation.Licenses, rl)
	}
	ok := verr == nil
	grants := map[string]*EntitlementGrant{}
	for _, l := range s.profile.Catalog() {
		n := s.profile.UsageOf(l.Tier)
		e := reserved[l.Tag]
		covered := e != nil && n <= e.Count && e.InDate(now) == nil
		if e != nil {
			grants[l.Tag] = &EntitlementGrant{Tag: e.Tag, DisplayName: e.DisplayName, Description: e.Description, Status: EntReservedAuth}
		}
		if n > 0 && !covered {
			ok = false
			if g := grants[l.Tag]; g != nil {
				g.Status = EntNotAuthorized
			}
		}
	}
	status := AuthReserved
	if !ok {
		status = AuthNotReserved
	}
	r.Authorization = Authorization{Status: status, Since: &at}
	r.Usage = Usage{AuthorizationStatus: status, AsOf: &at}
	s.entitlements(r, func(n int, g *EntitlementGrant) string {
		switch {
		case n == 0:
			return EntInit
		case g == nil:
			return EntNotAuthorized
		}
		return g.Status
	}, grants)
}

// registrationReport fills the registration block of a registered node.
func (s *Service) registrationReport(r *Report, reg *RegistrationState, now time.Time) {
	valid := reg.registrationValid(now)
	initial := &Attempt{Succeeded: true, At: reg.At}
	expires := regExpiry(reg.RenewedAt)
	r.Registration = Registration{
		Status: Registered, SmartAccount: reg.SmartAccount, VirtualAccount: reg.VirtualAccount,
		ExportControlled: ExportNotAllowed, InitialRegistration: initial, LastRenewal: reg.LastRenewal, Expires: &expires,
	}
	if reg.ExportAllowed && valid {
		r.Registration.ExportControlled = ExportAllowed
	}
	if valid {
		next := reg.nextRenewal()
		r.Registration.NextRenewal = &next
		r.ExportKeys = append(r.ExportKeys, reg.ExportKeys...)
		if p := reg.PendingExport; p != nil {
			r.PendingExport = &PendingExportStatus{Op: p.Op, Feature: p.Feature, Last: p.Last, Next: p.Last.At.Add(RetryAfter)}
		}
	} else {
		r.Registration.Status = RegistrationExpired
	}
}

// authorizedReport fills the authorization and usage of a node that the
// licensing server has authorized.
func (s *Service) authorizedReport(r *Report, reg *RegistrationState, now time.Time) {
	deadline, _ := reg.authorizationDeadline()
	next := reg.nextAuth()
	at := *reg.Auth.At
	a := Authorization{Status: AuthAuthorized, Since: &at, LastCommunication: reg.Auth.Last, NextCommunication: &next, Deadline: &deadline}
	u := Usage{AuthorizationStatus: AuthAuthorized, AsOf: &at}
	var overageEnds *time.Time
	switch {
	case !now.Before(deadline):
		a.Status, a.Since, a.NextCommunication = AuthExpired, &deadline, &next
		u = Usage{AuthorizationStatus: AuthExpired, AsOf: &deadline}
	case reg.Auth.Status == cssmapi.StatusOutOfCompliance:
		a.Status, u.AuthorizationStatus = AuthOutOfCompliance, AuthOutOfCompliance
		if reg.Auth.ShortSince != nil {
			end := reg.Auth.ShortSince.Add(OveragePeriod)
			overageEnds = &end
			a.OverageEnds = &end
		}
	case reg.Auth.Status == cssmapi.StatusNoLicensesInUse:
		a.Status, a.Since = AuthNoLicensesInUse, nil
		u = Usage{AuthorizationStatus: AuthNoLicensesInUse}
	}
	r.Authorization, r.Usage = a, u
	expired := !now.Before(deadline)
	grants := map[string]*EntitlementGrant{}
	for i := range reg.Auth.Entitlements {
		g := &reg.Auth.Entitlements[i]
		grants[g.Tag] = g
	}
	s.entitlements(r, func(n int, g *EntitlementGrant) string {
		switch {
		case n == 0:
			return EntInit
		case expired || g == nil:
			return EntNotAuthorized
		case g.Status == cssmapi.OutOfCompliance && overageEnds != nil && now.Before(*overageEnds):
			return EntOverage
		}
		return g.Status
	}, grants)
}

// entitlements lists every license type with its count and status; names
// come from the licensing server's grants, when it has described them.
func (s *Service) entitlements(r *Report, status func(n int, g *EntitlementGrant) string, grants map[string]*EntitlementGrant) {
	for _, l := range s.profile.Catalog() {
		n := s.profile.UsageOf(l.Tier)
		g := grants[l.Tag]
		e := EntitlementUsage{Key: l.Tier, Tag: l.Tag, Count: n, Version: tagVersion(l.Tag), Status: status(n, g)}
		if g != nil {
			e.DisplayName, e.Description, e.BorrowedFrom = g.DisplayName, g.Description, g.BorrowedFrom
		}
		r.Usage.Entitlements = append(r.Usage.Entitlements, e)
	}
}

// tagVersion is the version in an entitlement tag ("...UCM_Enhanced,12.0_...").
func tagVersion(tag string) string {
	_, rest, ok := strings.Cut(tag, ",")
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, "_")
	return v
}

func itoa(n int) string { return strconv.Itoa(n) }
