package publisher

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
	"golang.org/x/sys/unix"
)

// Every state-changing call to the licensing server goes through one slot
// in the state, State.Call. The transaction that checks a command's
// precondition also fills the slot: the call's path, body and idempotency
// key, and who makes it until when. Then the call is sent, outside the
// lock, and the transaction that records its outcome empties the slot. So
//   - two sessions never make such a call at once: the second finds the
//     slot taken ("registration in progress");
//   - an answer that is lost (or a process killed mid-call) leaves the slot
//     filled, and the next licensing command sends the very same request
//     again; cssm answers a repeated key with its first answer, so the node
//     learns what happened instead of doing it twice.

// PendingCall is a state-changing call that was sent (or is about to be)
// and whose outcome the node has not recorded yet.
type PendingCall struct {
	Path string `json:"path"` // a cssmapi.Path*
	Key  string `json:"idempotency_key"`
	// Body is the request's JSON exactly as sent: a retry must be the same
	// request, byte for byte, or cssm refuses the reused key.
	Body string `json:"body"`
	// InstanceID is the registration the call was made for; "" for register.
	InstanceID string    `json:"instance_id,omitempty"`
	At         time.Time `json:"at"` // licensing clock, when it was first made
	// Owner is the process (PID) sending the call, until Until (the system
	// clock, not the licensing clock: this is about processes, not licences).
	// 0 once the owner recorded that no trusted answer came.
	Owner int       `json:"owner,omitempty"`
	Until time.Time `json:"until,omitzero"`
	// Reason is why the last attempt got no answer, once one failed.
	Reason string `json:"failure_reason,omitempty"`
}

// callLease is how long a process may take for one call before others
// consider it gone: the HTTP timeout and a margin.
const callLease = CallTimeout + 10*time.Second

// live reports whether another session is making the call now.
func (s *Service) live(c *PendingCall) bool {
	if c.Owner == 0 || !s.Wall.Now().Before(c.Until) {
		return false
	}
	if c.Owner == os.Getpid() {
		return true // another session of this process (ucmsh serve)
	}
	// A killed process gives the call up at once: kill(pid, 0) fails with
	// ESRCH when there is no such process (a reused PID only waits for Until).
	return !errors.Is(unix.Kill(c.Owner, 0), unix.ESRCH)
}

// claim makes this process the call's owner.
func (s *Service) claim(c *PendingCall) {
	c.Owner, c.Until = os.Getpid(), s.Wall.Now().Add(callLease)
}

// newCall fills the slot for a call (the caller checked it is free).
func (s *Service) newCall(st *State, path string, spec *callSpec, now time.Time) (*PendingCall, error) {
	body, err := json.Marshal(spec.in)
	if err != nil {
		return nil, err
	}
	key := spec.key
	if key == "" {
		key = cssmapi.NewIdempotencyKey()
	}
	c := &PendingCall{Path: path, Key: key, Body: string(body), At: now.UTC()}
	if spec.r != nil {
		c.InstanceID = spec.r.InstanceID
	}
	s.claim(c)
	st.Call = c
	cp := *c
	return &cp, nil
}

// slotFree says why a new call cannot be made now, if it cannot.
func (s *Service) slotFree(st *State) error {
	c := st.Call
	switch {
	case c == nil:
		return nil
	case c.Path == cssmapi.PathRegister && s.live(c):
		return errRegistrationInProgress
	case s.live(c):
		return errCallInProgress(callName(c.Path))
	}
	return errCallUnanswered(callName(c.Path), c.Reason)
}

// settle sends again a call whose outcome is unknown (its answer was lost,
// or its process died) and records what the server answers. It does nothing
// if the slot is empty or another session is making the call.
func (s *Service) settle(ctx context.Context) error {
	var (
		c   *PendingCall
		st  *State
		now time.Time
	)
	err := s.update(func(cur *State, t time.Time) error {
		if cur.Call == nil || s.live(cur.Call) {
			return nil
		}
		s.claim(cur.Call)
		cp := *cur.Call
		c, st, now = &cp, cur, t
		return nil
	})
	if err != nil || c == nil {
		return err
	}
	return s.perform(ctx, st, c, now, false)
}

// perform sends the call in the slot and records its outcome in the way
// its path calls for; it returns the call's failure in the user's terms.
// first: no earlier attempt of this call can have reached the server.
func (s *Service) perform(ctx context.Context, st *State, c *PendingCall, now time.Time, first bool) error {
	cl, kerr := s.client(st.Transport)
	if kerr != nil {
		return s.finish(c, func(st *State) { s.unanswered(st, c, now, kerr, first) }, serverError(cl.BaseURL, kerr))
	}
	var credential string
	if c.InstanceID != "" {
		r := st.Registration
		if r == nil || r.InstanceID != c.InstanceID { // the registration went meanwhile
			return s.finish(c, func(*State) {}, nil)
		}
		credential = r.Credential
	}
	var out any
	switch c.Path {
	case cssmapi.PathRegister:
		out = new(cssmapi.RegisterResponse)
	case cssmapi.PathRenewID:
		out = new(cssmapi.RenewIDResponse)
	case cssmapi.PathAuthorize:
		out = new(cssmapi.AuthorizeResponse)
	case cssmapi.PathDeregister:
		out = new(cssmapi.OKResponse)
	default:
		out = new(cssmapi.ExportResponse)
	}
	callErr := cl.Send(ctx, c.Path, c.Key, credential, []byte(c.Body), out)
	var untrusted *cssmapi.UntrustedAnswerError
	if errors.As(callErr, &untrusted) {
		callErr = s.trustRefusal(untrusted)
	}
	// A server failure (5xx) says "try again": cssm records no such answer
	// under the key, so the same request is sent again like a lost one.
	unknown := errors.Is(callErr, cssmapi.ErrUnreachable) || serverFailed(callErr)
	var userErr error
	if callErr != nil {
		userErr = serverError(cl.BaseURL, callErr)
	}
	err := s.update(func(st *State, _ time.Time) error {
		if st.Call == nil || st.Call.Key != c.Key {
			return errCallSettled // another session recorded it
		}
		st.Call = nil
		if unknown {
			s.unanswered(st, c, now, callErr, first)
			return nil
		}
		return s.answered(st, c, now, out, callErr)
	})
	switch {
	case errors.Is(err, errCallSettled):
		return errCallRecordedElsewhere
	case err != nil:
		return err
	case !unknown:
		if c.Path == cssmapi.PathDeregister && forgotten(callErr) {
			return nil // deregistered locally
		}
	case c.Path == cssmapi.PathExportRequest || c.Path == cssmapi.PathExportReturn,
		(c.Path == cssmapi.PathRegister || c.Path == cssmapi.PathDeregister) && (!first || mayHaveActed(callErr)):
		return errCallKept(userErr, c.Path)
	}
	return userErr
}

// mayHaveActed: the call failed after its request left, so the server may
// have carried it out.
func mayHaveActed(err error) bool {
	var ue *cssmapi.UnreachableError
	if errors.As(err, &ue) {
		return ue.Sent
	}
	var tr *TrustRefusal
	return errors.As(err, &tr) && tr.Answered || serverFailed(err)
}

// serverFailed: a trusted answer that the server failed (5xx).
func serverFailed(err error) bool {
	var e *cssmapi.Error
	return errors.As(err, &e) && e.Status >= 500
}

var errCallSettled = errors.New("the call was recorded by another session")

// finish empties the slot with apply, and returns err.
func (s *Service) finish(c *PendingCall, apply func(*State), err error) error {
	uerr := s.update(func(st *State, _ time.Time) error {
		if st.Call != nil && st.Call.Key == c.Key {
			st.Call = nil
			apply(st)
		}
		return nil
	})
	if uerr != nil {
		return uerr
	}
	return err
}

// unanswered records a call that got no trusted answer: the server may or
// may not have acted on it. A registration or deregistration that may have
// reached the server stays in the slot, given up by its owner, for the next
// command to send again; one that certainly did not (first attempt, never
// sent) is forgotten: the state stays as it was. Renewals are simply due
// again later; export calls wait for their hourly retry.
func (s *Service) unanswered(st *State, c *PendingCall, now time.Time, err error, first bool) {
	reason := failureReason(err)
	switch c.Path {
	case cssmapi.PathRegister, cssmapi.PathDeregister:
		if first && !mayHaveActed(err) {
			return
		}
		kept := *c
		kept.Owner, kept.Until, kept.Reason = 0, time.Time{}, reason
		st.Call = &kept
		st.logEvent(now, "%s failed: %s; it is sent again with the next licensing command", callTitle(c.Path), reason)
	case cssmapi.PathRenewID, cssmapi.PathAuthorize:
		r, err := sameRegistration(st, c.InstanceID)
		if err != nil {
			return
		}
		if c.Path == cssmapi.PathRenewID {
			r.LastRenewal = &Attempt{At: now.UTC(), Reason: reason}
			st.logEvent(now, "Registration renewal failed: %s", reason)
		} else {
			r.Auth.Last = &Attempt{At: now.UTC(), Reason: reason}
			st.logEvent(now, "License authorization failed: %s", reason)
		}
	default:
		r, err := sameRegistration(st, c.InstanceID)
		if err != nil {
			return
		}
		var req cssmapi.ExportRequest
		_ = json.Unmarshal([]byte(c.Body), &req)
		r.PendingExport = &PendingExport{Op: exportOp(c.Path), Feature: req.Feature, Key: c.Key, Last: Attempt{At: now.UTC(), Reason: reason}}
		st.logEvent(now, "Export authorization key %s: %s failed (%s); it will be retried", req.Feature, exportOp(c.Path), reason)
	}
}

// answered records a trusted answer: success, or a refusal (callErr).
func (s *Service) answered(st *State, c *PendingCall, now time.Time, out any, callErr error) error {
	switch c.Path {
	case cssmapi.PathRegister:
		if callErr != nil {
			return nil // refused: the state stays as it was
		}
		if st.Reservation != nil { // cannot happen: enable refuses while registering
			return errReservationEnabled()
		}
		resp := out.(*cssmapi.RegisterResponse)
		st.Registration = &RegistrationState{
			InstanceID: resp.InstanceID, Credential: resp.Credential,
			SmartAccount: resp.SmartAccount, VirtualAccount: resp.VirtualAccount, ExportAllowed: resp.ExportAllowed,
			At: now.UTC(), RenewedAt: now.UTC(),
		}
		st.logEvent(now, "Registered with Smart Account %s, Virtual Account %s", resp.SmartAccount, resp.VirtualAccount)
		return nil
	case cssmapi.PathDeregister:
		r, err := sameRegistration(st, c.InstanceID)
		if err != nil || (callErr != nil && !forgotten(callErr)) {
			return nil
		}
		st.Registration = nil
		st.logEvent(now, "Deregistered from Smart Account %s, Virtual Account %s", r.SmartAccount, r.VirtualAccount)
		return nil
	}
	r, err := sameRegistration(st, c.InstanceID)
	if err != nil {
		return nil
	}
	switch c.Path {
	case cssmapi.PathRenewID:
		if callErr != nil {
			r.LastRenewal = &Attempt{At: now.UTC(), Reason: failureReason(callErr)}
			st.logEvent(now, "Registration renewal failed: %s", r.LastRenewal.Reason)
			return nil
		}
		resp := out.(*cssmapi.RenewIDResponse)
		r.LastRenewal = &Attempt{Succeeded: true, At: now.UTC()}
		r.RenewedAt = now.UTC()
		r.SmartAccount, r.VirtualAccount, r.ExportAllowed = resp.SmartAccount, resp.VirtualAccount, resp.ExportAllowed
		st.logEvent(now, "Registration renewed")
	case cssmapi.PathAuthorize:
		var req cssmapi.AuthorizeRequest
		_ = json.Unmarshal([]byte(c.Body), &req)
		usage := req.Usage
		if len(usage) == 0 {
			usage = nil
		}
		resp, _ := out.(*cssmapi.AuthorizeResponse)
		recordAuth(st, r, now, usage, resp, callErr)
	default:
		var req cssmapi.ExportRequest
		_ = json.Unmarshal([]byte(c.Body), &req)
		op := exportOp(c.Path)
		r.PendingExport = nil
		if callErr != nil { // refused: retrying would not help
			st.logEvent(now, "Export authorization key %s: %s refused: %s", req.Feature, op, failureReason(callErr))
			return nil
		}
		r.ExportKeys = slices.Clone(out.(*cssmapi.ExportResponse).Features)
		st.logEvent(now, "Export authorization key %s: %s succeeded", req.Feature, op)
	}
	return nil
}

func exportOp(path string) string {
	if path == cssmapi.PathExportReturn {
		return "return"
	}
	return "request"
}

// callSpec is a call to make: its request, the registration it is made for
// (nil for register), and its idempotency key ("": a new one).
type callSpec struct {
	path string // when the call's path is known only in prepare
	in   any
	r    *RegistrationState
	key  string
}

// call makes a new state-changing call: prepare checks the command's
// precondition and returns the call (nil: nothing to send), in the same
// transaction that fills the slot with it.
func (s *Service) call(ctx context.Context, path string, prepare func(st *State, now time.Time) (*callSpec, error)) error {
	var (
		c   *PendingCall
		st  *State
		now time.Time
	)
	err := s.update(func(cur *State, t time.Time) error {
		if err := s.slotFree(cur); err != nil {
			return err
		}
		spec, err := prepare(cur, t)
		if err != nil || spec == nil {
			return err
		}
		if spec.path != "" {
			path = spec.path
		}
		c, err = s.newCall(cur, path, spec, t)
		st, now = cur, t
		return err
	})
	if err != nil || c == nil {
		return err
	}
	return s.perform(ctx, st, c, now, true)
}

// registering: a registration was sent and its outcome is not recorded yet
// (reservation mode must wait for it).
func (st *State) registering() bool {
	return st.Call != nil && st.Call.Path == cssmapi.PathRegister
}
