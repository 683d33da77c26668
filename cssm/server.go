package cssm

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
)

// Server is the product-facing HTTP API over a Store.
//
// Every call changes the state (even a renewal records when the product was seen),
// and a call is answered only once its change is on disk. To keep that affordable
// with thousands of products, calls are group-committed: one goroutine takes all the
// calls waiting, runs them one after the other in a single store transaction and
// saves once, then answers them all.
type Server struct {
	store *Store
	clock Clock
	log   *log.Logger

	mu     sync.RWMutex // guards closed against sends on queue
	closed bool
	queue  chan *call
	done   chan struct{}
}

type call struct {
	op   opFunc
	resp any
	err  error
	done chan struct{}
}

// opFunc is one API call bound to its decoded request.
type opFunc = func(st *State, now time.Time) (any, error)

const maxBatch = 1024

// commitLinger is how long a commit waits for more calls after the first. A save
// costs about the same for one call as for hundreds, so without it a lone call
// arriving just after a commit gets a save of its own while the rest queue.
const commitLinger = time.Millisecond

// NewServer starts the server's commit loop; Close stops it.
func NewServer(store *Store, clock Clock, logger *log.Logger) *Server {
	if logger == nil {
		logger = log.New(io.Discard, "", 0)
	}
	s := &Server{store: store, clock: clock, log: logger, queue: make(chan *call, maxBatch), done: make(chan struct{})}
	go s.commitLoop()
	return s
}

// Close answers calls already queued, then stops; later calls get unavailable.
// Shut the http.Server down first so that no handler is left waiting.
func (s *Server) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.queue)
	}
	s.mu.Unlock()
	<-s.done
}

func (s *Server) submit(op opFunc) (any, error) {
	c := &call{op: op, done: make(chan struct{})}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, errShuttingDown()
	}
	s.queue <- c
	s.mu.RUnlock()
	<-c.done
	return c.resp, c.err
}

func (s *Server) commitLoop() {
	defer close(s.done)
	for c := range s.queue {
		batch := []*call{c}
		linger := time.NewTimer(commitLinger)
	more:
		for len(batch) < maxBatch {
			select {
			case c, ok := <-s.queue:
				if !ok {
					break more
				}
				batch = append(batch, c)
			case <-linger.C:
				break more
			}
		}
		linger.Stop()
		s.commit(batch)
	}
}

// commit runs a batch in one transaction. Refused calls change nothing, so the
// state is saved if any call succeeded; if that save fails, those calls fail too
// and the store reloads from disk next time.
func (s *Server) commit(batch []*call) {
	now := s.clock.Now()
	err := s.store.apply(func(st *State) bool {
		changed := false
		for _, c := range batch {
			c.resp, c.err = c.op(st, now)
			changed = changed || c.err == nil
		}
		return changed
	})
	for _, c := range batch {
		if err != nil && c.err == nil {
			c.resp, c.err = nil, err
		}
		close(c.done)
	}
}

// ServeHTTP routes the API. Every answer is JSON.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == cssmapi.PathHealth {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			s.writeError(w, r, errMethod(r.Method, http.MethodGet))
			return
		}
		writeJSON(w, http.StatusOK, cssmapi.HealthResponse{OK: true})
		return
	}
	route, ok := routes[r.URL.Path]
	if !ok {
		s.writeError(w, r, errNoSuchPath(r.URL.Path))
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.writeError(w, r, errMethod(r.Method, http.MethodPost))
		return
	}
	// Requiring JSON also makes a browser send a CORS preflight, which this
	// server never answers, so a web page cannot drive a loopback cssm.
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		s.writeError(w, r, errMediaType(r.Header.Get("Content-Type")))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, cssmapi.MaxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			s.writeError(w, r, errBodyTooLarge())
			return
		}
		s.writeError(w, r, errBadJSON(r.URL.Path, err))
		return
	}
	op, err := route(bearer(r), body)
	if err != nil {
		s.writeError(w, r, errBadJSON(r.URL.Path, err))
		return
	}
	resp, err := s.submit(op)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// routes decode a body into the call to make. Decoding happens in the handler's
// goroutine, outside the store transaction.
var routes = map[string]func(credential string, body []byte) (opFunc, error){
	cssmapi.PathRegister: post(func(st *State, now time.Time, _ string, req cssmapi.RegisterRequest) (any, error) {
		return st.Register(now, req)
	}),
	cssmapi.PathRenewID: post(func(st *State, now time.Time, cred string, req cssmapi.InstanceRequest) (any, error) {
		return st.RenewID(now, cred, req)
	}),
	cssmapi.PathAuthorize: post(func(st *State, now time.Time, cred string, req cssmapi.AuthorizeRequest) (any, error) {
		return st.Authorize(now, cred, req)
	}),
	cssmapi.PathDeregister: post(func(st *State, _ time.Time, cred string, req cssmapi.InstanceRequest) (any, error) {
		return st.Deregister(cred, req)
	}),
	cssmapi.PathExportRequest: post(func(st *State, now time.Time, cred string, req cssmapi.ExportRequest) (any, error) {
		return st.ExportRequest(now, cred, req)
	}),
	cssmapi.PathExportReturn: post(func(st *State, now time.Time, cred string, req cssmapi.ExportRequest) (any, error) {
		return st.ExportReturn(now, cred, req)
	}),
}

func post[Req any](fn func(*State, time.Time, string, Req) (any, error)) func(string, []byte) (opFunc, error) {
	return func(cred string, body []byte) (opFunc, error) {
		var req Req
		dec := json.NewDecoder(bytes.NewReader(body))
		if err := dec.Decode(&req); err != nil {
			return nil, err
		}
		if dec.More() {
			return nil, errors.New("data after the JSON object")
		}
		return func(st *State, now time.Time) (any, error) { return fn(st, now, cred, req) }, nil
	}
}

func bearer(r *http.Request) string {
	scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(cred)
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	apiErr, ok := errors.AsType[*cssmapi.Error](err)
	if !ok {
		s.log.Printf("%s %s: %v", r.Method, r.URL.Path, err)
		apiErr = errInternal().(*cssmapi.Error)
	}
	writeJSON(w, cssmapi.HTTPStatus(apiErr.Code), apiErr)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// NewHTTPServer wraps h with the limits a server exposed to products needs.
func NewHTTPServer(h http.Handler, logger *log.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          logger,
	}
}
