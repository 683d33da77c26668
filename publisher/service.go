package publisher

import (
	"context"
	"time"
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
}

// NewService wires the service to its state, clock and node profile.
func NewService(store *Store, clock Clock, profile *Profile) *Service {
	return &Service{store: store, clock: clock, profile: profile, NewIdentity: NewIdentity}
}

// Store is where the service keeps its state.
func (s *Service) Store() *Store { return s.store }

// update runs fn on the current state after bringing the timers up to now.
// Timers are brought up to date even if fn then fails, as a real agent's
// would be; fn's own changes are only kept if it succeeds.
func (s *Service) update(fn func(st *State, now time.Time) error) error {
	now := s.clock.Now()
	return s.store.Update(func(st *State) error {
		if err := s.ensure(st, now); err != nil {
			return err
		}
		st.trackEvaluation(now, s.evaluationShouldRun(st))
		if fn == nil {
			return nil
		}
		return fn(st, now)
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

// evaluationShouldRun: the counter runs only while the node is unregistered
// and consumes licenses.
func (s *Service) evaluationShouldRun(st *State) bool {
	return s.profile.InUse()
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
	return s.update(nil)
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

func (s *Service) report(st *State, now time.Time) *Report {
	r := &Report{
		SmartLicensing: SmartLicensingEnabled,
		Registration:   Registration{Status: Unregistered, ExportControlled: ExportNotAllowed},
		Transport:      Transport{Type: TransportDirect, URL: DefaultTransportURL},
		Reservation:    Reservation{Status: ReservationDisabled},
		ExportKeys:     []string{},
		UDI:            st.Identity.UDI(),
		AgentVersion:   AgentVersion,
		Events:         append([]Event{}, st.Events...),
		Now:            now,
		Location:       s.profile.Location(),
	}
	ev := &st.Evaluation
	remaining := ev.Remaining(now)
	r.Evaluation = EvalStatus{InUse: ev.Running(), Remaining: remaining, ExpiredAt: ev.ExpiredAt}

	inUse := s.profile.InUse()
	entStatus := EntEval
	switch {
	case !inUse:
		r.Authorization.Status = AuthNoLicensesInUse
		r.Usage.AuthorizationStatus = AuthNoLicensesInUse
	case ev.ExpiredAt != nil:
		r.Authorization = Authorization{Status: AuthEvalExpired, Since: ev.ExpiredAt}
		r.Usage = Usage{AuthorizationStatus: AuthEvalExpired, AsOf: ev.ExpiredAt}
		entStatus = EntNotAuthorized
	default:
		r.Authorization = Authorization{Status: AuthEvalMode, EvaluationRemaining: &remaining}
		r.Usage.AuthorizationStatus = UsageEvaluationMode
	}
	for _, l := range Licenses {
		n := s.profile.UsageOf(l.Key)
		status := entStatus
		if n == 0 {
			status = EntInit
		}
		r.Usage.Entitlements = append(r.Usage.Entitlements, EntitlementUsage{
			Key: l.Key, Tag: l.Tag, Count: n, Version: l.Version, Status: status,
		})
	}
	return r
}
