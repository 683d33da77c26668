package cssm

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log"
	"mime"
	"net/http"
	"runtime/debug"
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

	key    *ecdsa.PrivateKey // signs every answer of a state-changing call
	keyErr error
	pruned time.Time // when old idempotency records were last dropped (commit loop only)

	mu     sync.RWMutex // guards closed against sends on queue
	closed bool
	queue  chan *call
	done   chan struct{}
}

type call struct {
	op   opFunc
	path string
	key  string // idempotency key; "" when the client sent none
	req  string // requestHash of the credential and body, for key reuse
	ans  *answer
	err  error // not an API answer: the store failed; nothing is recorded
	done chan struct{}
}

// answer is one signed HTTP answer, exactly as sent (and as replayed).
type answer struct {
	status int
	body   []byte
	sig    string
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
	s.key, s.keyErr = store.SigningKey()
	if s.keyErr != nil {
		logger.Printf("no signing key, every state-changing call fails: %v", s.keyErr)
	}
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

func (s *Server) submit(c *call) (*answer, error) {
	c.done = make(chan struct{})
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, errShuttingDown()
	}
	s.queue <- c
	s.mu.RUnlock()
	<-c.done
	return c.ans, c.err
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
// state is saved if any call succeeded or recorded its answer under an
// idempotency key; if that save fails, those calls fail too (their answers and
// records are dropped with the cache) and the store reloads from disk next time.
//
// A call that panics (a bug) would end the commit loop and the process with
// it: the transaction is rolled back instead, that call fails, and the rest
// of the batch runs again in a new transaction.
func (s *Server) commit(batch []*call) {
	for len(batch) > 0 {
		batch = s.commitOnce(batch)
	}
}

// errPanicked is a call's error when it panicked; apiError logs it and
// answers internal.
var errPanicked = errors.New("the call panicked (a bug; its stack is logged above)")

// commitOnce commits batch; after a panic it returns the calls to run again.
func (s *Server) commitOnce(batch []*call) (again []*call) {
	var current *call // the call being run, to blame for a panic
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		s.log.Printf("panic in a batch of %d calls: %v\n%s", len(batch), p, debug.Stack())
		for _, c := range batch {
			if c == current || current == nil {
				c.ans, c.err = nil, errPanicked
				close(c.done)
			} else {
				again = append(again, c)
			}
		}
	}()
	now := s.clock.Now()
	err := s.store.apply(func(st *State) bool {
		st.now = now
		changed := false
		if now.Sub(s.pruned) >= pruneEvery || now.Before(s.pruned) {
			st.pruneIdempotency(now)
			s.pruned, changed = now, true
		}
		for _, c := range batch {
			current = c
			c.ans, c.err = nil, nil
			if c.key != "" {
				if rec := st.idempotencyRecord(c.key); rec != nil {
					if rec.Path == c.path && rec.RequestSHA256 == c.req {
						c.ans = rec.answer()
					} else {
						c.ans, c.err = s.answer(c.path, c.key, errIdempotencyReused(c.key))
					}
					continue
				}
			}
			resp, err := c.op(st, now)
			if err != nil {
				if _, ok := errors.AsType[*cssmapi.Error](err); !ok {
					c.err = err
					continue
				}
				resp = err
			}
			if c.ans, c.err = s.answer(c.path, c.key, resp); c.err != nil {
				changed = changed || err == nil // the change stays, unanswered
				continue
			}
			// A 5xx answer says "try again": never replay it.
			if c.key != "" && c.ans.status < 500 {
				st.recordAnswer(c.key, c.path, c.req, c.ans, now)
				changed = true
			}
			changed = changed || err == nil
		}
		current = nil
		return changed
	})
	for _, c := range batch {
		if err != nil && c.err == nil {
			c.ans, c.err = nil, err
		}
		close(c.done)
	}
	return nil
}

// answer encodes v (a response, or an *cssmapi.Error) and signs it.
func (s *Server) answer(path, key string, v any) (*answer, error) {
	status := http.StatusOK
	if e, ok := v.(*cssmapi.Error); ok {
		status = cssmapi.HTTPStatus(e.Code)
	}
	body, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	body = append(body, '\n')
	if s.keyErr != nil {
		return nil, s.keyErr
	}
	sig, err := cssmapi.SignAnswer(s.key, path, key, status, body)
	if err != nil {
		return nil, err
	}
	return &answer{status: status, body: body, sig: sig}, nil
}

// requestHash binds an idempotency key to what was asked and by whom: a key
// replayed with another credential or body is a reuse, not a repeat.
func requestHash(credential string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(credential))
	h.Write([]byte{0})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// ServeHTTP routes the API. Every answer is JSON; every answer on a path of a
// state-changing call, refusals included, is signed (cssmapi.HeaderSignature).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer s.recoverPanic(w, r)
	if isREST(r.URL.Path) {
		s.serveREST(w, r)
		return
	}
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
	key := r.Header.Get(cssmapi.HeaderIdempotencyKey)
	signedKey := key // the key the answer is bound to
	if !cssmapi.ValidIdempotencyKey(key) {
		signedKey = ""
	}
	refuse := func(err error) { s.writeSigned(w, r, signedKey, err) }
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		refuse(errMethod(r.Method, http.MethodPost))
		return
	}
	if key != "" && signedKey == "" {
		refuse(errIdempotencyKey())
		return
	}
	// Requiring JSON also makes a browser send a CORS preflight, which this
	// server never answers, so a web page cannot drive a loopback cssm.
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		refuse(errMediaType(r.Header.Get("Content-Type")))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, cssmapi.MaxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			refuse(errBodyTooLarge())
			return
		}
		refuse(errBadJSON(r.URL.Path, err))
		return
	}
	cred := bearer(r)
	op, err := route(cred, body)
	if err != nil {
		refuse(errBadJSON(r.URL.Path, err))
		return
	}
	if s.keyErr != nil {
		refuse(s.keyErr)
		return
	}
	c := &call{op: op, path: r.URL.Path, key: key}
	if key != "" {
		c.req = requestHash(cred, body)
	}
	ans, err := s.submit(c)
	if err != nil {
		refuse(err)
		return
	}
	writeAnswer(w, ans)
}

// writeSigned answers an error that was not recorded, signed.
func (s *Server) writeSigned(w http.ResponseWriter, r *http.Request, key string, err error) {
	apiErr := s.apiError(r, err)
	ans, serr := s.answer(r.URL.Path, key, apiErr)
	if serr != nil {
		s.log.Printf("%s %s: cannot sign the answer: %v", r.Method, r.URL.Path, serr)
		writeJSON(w, cssmapi.HTTPStatus(apiErr.Code), apiErr)
		return
	}
	writeAnswer(w, ans)
}

// recoverPanic answers a handler's panic (a bug) with an internal error and
// logs it with its stack. net/http would recover it too, but by dropping the
// connection: the client would see EOF and nothing it could report.
func (s *Server) recoverPanic(w http.ResponseWriter, r *http.Request) {
	p := recover()
	if p == nil {
		return
	}
	if p == http.ErrAbortHandler {
		panic(p)
	}
	s.log.Printf("%s %s: panic: %v\n%s", r.Method, r.URL.Path, p, debug.Stack())
	if isREST(r.URL.Path) {
		writeRESTError(w, restFail(http.StatusInternalServerError, msgRESTInternal))
		return
	}
	key := r.Header.Get(cssmapi.HeaderIdempotencyKey)
	if !cssmapi.ValidIdempotencyKey(key) {
		key = ""
	}
	s.writeSigned(w, r, key, errInternal())
}

func writeAnswer(w http.ResponseWriter, a *answer) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set(cssmapi.HeaderSignature, a.sig)
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
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
	apiErr := s.apiError(r, err)
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

// apiError is the refusal for err: its own, 503 for a database failure (logged
// with the detail), else internal.
func (s *Server) apiError(r *http.Request, err error) *cssmapi.Error {
	if e, ok := errors.AsType[*cssmapi.Error](err); ok {
		return e
	}
	s.log.Printf("%s %s: %v", r.Method, r.URL.Path, err)
	if e, ok := errors.AsType[*dbError](err); ok {
		return errDatabase(e).(*cssmapi.Error)
	}
	return errInternal().(*cssmapi.Error)
}
