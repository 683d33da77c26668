package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
)

// Fault kinds. Network faults act in front of cssm's product API, for the
// nodes of one cluster or for all; data faults change what cssm holds, as
// an admin on the portal (or another product) would.
const (
	FaultUnreachable   = "unreachable"   // connection refused
	FaultTimeout       = "timeout"       // requests are held and never answered
	FaultHTTP5xx       = "http-5xx"      // answered with an HTTP 5xx (status, default 503)
	FaultSlow          = "slow"          // answered after a delay (default 5s)
	FaultTokenRevoked  = "token-revoked" // registrations refused: the token is unknown
	FaultTokenUsedUp   = "token-used-up" // registrations refused: the token is used up
	FaultPoolExhausted = "pool-exhausted"
	FaultNoExportKeys  = "export-keys-exhausted"
	FaultRemoved       = "instance-removed" // the publishers' instances removed on the portal
	// FaultOtherUDI writes, for each cluster, an authorization code cssm
	// issued for another product (faults/<cluster>.code in the lab folder):
	// a node that installs it refuses it.
	FaultOtherUDI = "reservation-other-udi"
)

// FaultKinds lists every kind, for help and errors.
var FaultKinds = []string{FaultUnreachable, FaultTimeout, FaultHTTP5xx, FaultSlow, FaultTokenRevoked, FaultTokenUsedUp, FaultPoolExhausted, FaultNoExportKeys, FaultRemoved, FaultOtherUDI}

// TargetCSSM is the fault target meaning every cluster.
const TargetCSSM = "cssm"

// Fault is one injected fault.
type Fault struct {
	Target string        `json:"target"` // TargetCSSM or a cluster name
	Kind   string        `json:"kind"`
	Delay  time.Duration `json:"delay_ns,omitempty"` // slow
	Status int           `json:"status,omitempty"`   // http-5xx
	Since  time.Time     `json:"since"`              // lab clock
	// Hogs are the phantom instances of a pool-exhausted fault.
	Hogs []*hog `json:"hogs,omitempty"`
	// Reservations are the codes of a reservation-other-udi fault.
	Reservations []*otherReservation `json:"reservations,omitempty"`
}

func (f Fault) String() string {
	s := f.Target + " " + f.Kind
	switch f.Kind {
	case FaultSlow:
		s += " " + f.Delay.String()
	case FaultHTTP5xx:
		s += " " + strconv.Itoa(f.Status)
	case FaultOtherUDI:
		for _, r := range f.Reservations {
			s += " " + r.File
		}
	}
	return s
}

// checkFault fills a fault's defaults and refuses nonsense.
func checkFault(f *Fault) error {
	if !slices.Contains(FaultKinds, f.Kind) {
		return fmt.Errorf(msgNotAFault, f.Kind, strings.Join(FaultKinds, ", "))
	}
	switch f.Kind {
	case FaultSlow:
		if f.Delay == 0 {
			f.Delay = 5 * time.Second
		}
		if f.Delay < 0 || f.Delay > 10*time.Minute {
			return fmt.Errorf(msgBadDelay, f.Delay)
		}
	case FaultHTTP5xx:
		if f.Status == 0 {
			f.Status = http.StatusServiceUnavailable
		}
		if f.Status < 500 || f.Status > 599 {
			return fmt.Errorf(msgBadStatus, f.Status)
		}
	}
	return nil
}

// faultSet holds the faults in force; fronts read it on every request.
type faultSet struct {
	mu      sync.Mutex
	list    []*Fault
	changed chan struct{} // closed on every change: held requests look again
}

func newFaultSet() *faultSet { return &faultSet{changed: make(chan struct{})} }

func (s *faultSet) snapshot() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Fault, len(s.list))
	for i, f := range s.list {
		out[i] = *f
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// active is the fault of a kind for a cluster (its own, or cssm's).
func (s *faultSet) active(cluster, kind string) (*Fault, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.list {
		if f.Kind == kind && (f.Target == TargetCSSM || f.Target == cluster) {
			c := *f
			return &c, s.changed
		}
	}
	return nil, s.changed
}

func (s *faultSet) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// front is one listener in front of cssm's product API: one per cluster
// (its publisher's transport URL) and one for the lab's own use ("cssm").
type front struct {
	cluster string // "" for the lab's own
	addr    string
	handler http.Handler

	mu    sync.Mutex
	ln    net.Listener
	srv   *http.Server
	conns map[net.Conn]bool
	down  bool
}

func (f *front) url() string { return "http://" + f.addr }

// serve starts answering on ln.
func (f *front) serve(ln net.Listener) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ln, f.down = ln, false
	if f.conns == nil {
		f.conns = map[net.Conn]bool{}
	}
	if f.srv == nil {
		f.srv = &http.Server{
			Handler:           f.handler,
			ReadHeaderTimeout: 5 * time.Second,
			IdleTimeout:       90 * time.Second,
			ConnState: func(c net.Conn, st http.ConnState) {
				f.mu.Lock()
				defer f.mu.Unlock()
				switch st {
				case http.StateNew:
					f.conns[c] = true
				case http.StateClosed, http.StateHijacked:
					delete(f.conns, c)
				}
			},
		}
	}
	srv := f.srv
	go srv.Serve(ln)
}

// setDown closes the listener (connections are refused) and every open
// connection, or listens again on the same address.
func (f *front) setDown(down bool) error {
	f.mu.Lock()
	if down == f.down {
		f.mu.Unlock()
		return nil
	}
	if down {
		f.down = true
		if f.ln != nil {
			f.ln.Close()
			f.ln = nil
		}
		for c := range f.conns {
			c.Close()
		}
		f.mu.Unlock()
		return nil
	}
	f.mu.Unlock()
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf(msgListenAgain, f.addr, err)
	}
	f.serve(ln)
	return nil
}

func (f *front) close() {
	f.mu.Lock()
	srv := f.srv
	f.srv = nil
	if f.ln != nil {
		f.ln.Close()
		f.ln = nil
	}
	f.mu.Unlock()
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		srv.Shutdown(ctx)
		cancel()
		srv.Close()
	}
}

// faultMiddleware applies the network and answer faults of a cluster in
// front of cssm's API. Its refusals are cssm's own (code, words) and are
// signed with cssm's key, as cssm signs its answers.
func (l *Lab) faultMiddleware(cluster string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == cssmapi.PathHealth {
			next.ServeHTTP(w, r)
			return
		}
		l.callArrived(cluster)
		if f, changed := l.faults.active(cluster, FaultTimeout); f != nil {
			// Held until the client gives up or the fault is cleared.
			for f != nil {
				select {
				case <-r.Context().Done():
					return
				case <-changed:
				}
				f, changed = l.faults.active(cluster, FaultTimeout)
			}
		}
		if f, changed := l.faults.active(cluster, FaultSlow); f != nil {
			t := time.NewTimer(f.Delay)
			select {
			case <-r.Context().Done():
				t.Stop()
				return
			case <-t.C:
			case <-changed:
				t.Stop()
			}
		}
		// Snapshots hold every request at this gate for one instant (not
		// those a fault holds, which could keep a snapshot waiting).
		l.gate.RLock()
		defer l.gate.RUnlock()
		if f, _ := l.faults.active(cluster, FaultHTTP5xx); f != nil {
			l.refuse(w, r, f.Status, cssmapi.Errorf(cssmapi.CodeUnavailable, msgUnavailable, f.Status))
			return
		}
		switch r.URL.Path {
		case cssmapi.PathRegister:
			if f, _ := l.faults.active(cluster, FaultTokenRevoked); f != nil {
				l.refuse(w, r, 0, cssmapi.Errorf(cssmapi.CodeTokenUnknown, msgTokenRevoked))
				return
			}
			if f, _ := l.faults.active(cluster, FaultTokenUsedUp); f != nil {
				l.refuse(w, r, 0, cssmapi.Errorf(cssmapi.CodeTokenUsedUp, msgTokenUsedUp))
				return
			}
		case cssmapi.PathExportRequest:
			if f, _ := l.faults.active(cluster, FaultNoExportKeys); f != nil {
				l.refuse(w, r, 0, cssmapi.Errorf(cssmapi.CodeNoExportKeys, msgNoExportKeys, l.virtualOf(cluster)))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// refuse answers an API error as cssm does, signed.
func (l *Lab) refuse(w http.ResponseWriter, r *http.Request, status int, e error) {
	body, _ := json.Marshal(e)
	body = append(body, '\n')
	if status == 0 {
		status = httpStatusOf(e)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if sig, err := l.cssm.sign(r.URL.Path, r.Header.Get(cssmapi.HeaderIdempotencyKey), status, body); err == nil {
		w.Header().Set(cssmapi.HeaderSignature, sig)
	}
	w.WriteHeader(status)
	w.Write(body)
}
