package publisher

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/cssm"
	"github.com/ucmsh/ucmsh/cssmapi"
	"github.com/ucmsh/ucmsh/internal/clock"
	"github.com/ucmsh/ucmsh/internal/statedir"
)

// licensing is a cssm (the real server, in this process) on 127.0.0.1 with
// virtual account VA: 10 Enhanced licences and one export key. Every
// request passes through intercept first, when it is set, which plays the
// network or the attacker.
type licensing struct {
	t         *testing.T
	store     *cssm.Store
	portal    *cssm.Portal
	api       http.Handler
	srv       *httptest.Server
	intercept atomic.Pointer[func(w http.ResponseWriter, r *http.Request) bool]
}

func newLicensing(t *testing.T) *licensing {
	t.Helper()
	store, err := cssm.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	api := cssm.NewServer(store, clock.System{}, nil)
	l := &licensing{t: t, store: store, portal: &cssm.Portal{Store: store, Clock: clock.System{}}, api: api}
	l.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f := l.intercept.Load(); f != nil && (*f)(w, r) {
			return
		}
		api.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { l.srv.Close(); api.Close(); store.Close() })
	for _, step := range []func() (string, error){
		func() (string, error) { return l.portal.CreateAccount("SA", "VA") },
		func() (string, error) {
			return l.portal.AddLicense("VA", cssm.LicenseSpec{Tier: "Enhanced", Count: 10})
		},
		func() (string, error) { return l.portal.AddExportKeys("VA", 1) },
	} {
		if _, err := step(); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// on makes f see every request first; f returns true when it answered.
func (l *licensing) on(f func(w http.ResponseWriter, r *http.Request) bool) { l.intercept.Store(&f) }

func (l *licensing) token(uses int, export bool) string {
	l.t.Helper()
	tok, err := l.portal.CreateToken("VA", cssm.TokenOptions{ExpiresDays: 30, MaxUses: uses, AllowExport: export})
	if err != nil {
		l.t.Fatal(err)
	}
	return strings.TrimSpace(tok)
}

// node is a node in dir that trusts this cssm (as cssm serve arranges for
// the node sharing its state root) and reaches it as an ssm-satellite.
func (l *licensing) node(dir string, now time.Time) *Service {
	l.t.Helper()
	s := serviceAt(l.t, dir, now, inUse)
	key, err := l.store.SigningKey()
	if err != nil {
		l.t.Fatal(err)
	}
	writeTrustedKey(l.t, dir, &key.PublicKey)
	if err := s.SetTransport(TransportConfig{Mode: TransportModeSatellite, URL: l.srv.URL}); err != nil {
		l.t.Fatal(err)
	}
	return s
}

func writeTrustedKey(t *testing.T, dir string, pub *ecdsa.PublicKey) {
	t.Helper()
	pem, err := cssm.PublicKeyPEM(pub)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(statedir.Node(dir).Trust(), "cssm.pem"), pem, 0o600); err != nil {
		t.Fatal(err)
	}
}

// agree checks the promise of issue 10 item 5: cssm holds exactly the
// instance the node believes registered, with the credential the node
// holds, and the export key exactly when the node holds it.
func (l *licensing) agree(s *Service) {
	l.t.Helper()
	var node State
	if err := s.store.View(func(st *State) error { node = *st; return nil }); err != nil {
		l.t.Fatal(err)
	}
	insts, err := l.portal.Instances("VA")
	if err != nil {
		l.t.Fatal(err)
	}
	r := node.Registration
	switch {
	case r == nil && len(insts) != 0:
		l.t.Fatalf("the node is not registered, but cssm holds %+v", insts)
	case r == nil:
		return
	case len(insts) != 1 || insts[0].ID != r.InstanceID:
		l.t.Fatalf("the node believes it is instance %s, cssm holds %+v", r.InstanceID, insts)
	}
	sum := sha256.Sum256([]byte(r.Credential))
	if insts[0].CredentialSHA256 != hex.EncodeToString(sum[:]) {
		l.t.Fatalf("the node holds a credential cssm does not know")
	}
	if held := len(insts[0].ExportKeys) > 0; held != r.holds(ExportFeature) {
		l.t.Fatalf("cssm says the export key is held: %v; the node: %v", held, r.ExportKeys)
	}
}

// tokenUses is how often cssm counted a registration with tok.
func (l *licensing) tokenUses(tok string) int {
	l.t.Helper()
	uses := -1
	if err := l.store.View(func(st *cssm.State) error {
		if t := st.Token(tok); t != nil {
			uses = t.Uses
		}
		return nil
	}); err != nil {
		l.t.Fatal(err)
	}
	return uses
}

// loseAnswer lets cssm carry out the next call to path, then drops the
// connection before the node reads the answer.
func (l *licensing) loseAnswer(path string) *atomic.Int32 {
	var lost atomic.Int32
	l.on(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != path || lost.Load() > 0 {
			return false
		}
		l.api.ServeHTTP(httptest.NewRecorder(), r)
		lost.Add(1)
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
		return true
	})
	return &lost
}

// A lost answer, then the node's next licensing command: node and cssm
// agree, and a single-use token was used once, for the node that is
// registered in the end.
func TestALostAnswerIsSentAgainWithItsKey(t *testing.T) {
	l := newLicensing(t)
	dir := t.TempDir()
	s := l.node(dir, t0)
	ctx := context.Background()
	tok := l.token(1, true)

	lost := l.loseAnswer(cssmapi.PathRegister)
	_, err := s.Register(ctx, tok, false)
	if err == nil || !strings.Contains(err.Error(), "cannot be reached") || !strings.Contains(err.Error(), "sent again with the next licensing command") {
		t.Fatalf("register with its answer lost: %v", err)
	}
	if lost.Load() != 1 {
		t.Fatal("the answer was not lost")
	}
	if err := s.RunDue(ctx); err != nil { // the next licensing command
		t.Fatal(err)
	}
	l.agree(s)
	if r := report(t, s); r.Registration.Status != Registered || r.Authorization.Status != AuthAuthorized {
		t.Fatalf("after the retry: %s, %s", r.Registration.Status, r.Authorization.Status)
	}
	if n := l.tokenUses(tok); n != 1 {
		t.Fatalf("the single-use token was used %d times", n)
	}

	// The export key: the request's answer is lost; its hourly retry reuses
	// the key, so cssm's pool of one is enough.
	lost = l.loseAnswer(cssmapi.PathExportRequest)
	if err := s.ExportRequest(ctx, ExportFeature); err == nil || !strings.Contains(err.Error(), "kept and retried") {
		t.Fatalf("export request with its answer lost: %v", err)
	}
	s = serviceAt(t, dir, t0.Add(RetryAfter), inUse)
	if err := s.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	if r := report(t, s); len(r.ExportKeys) != 1 || r.PendingExport != nil {
		t.Fatalf("after the retry: keys %v, pending %+v", r.ExportKeys, r.PendingExport)
	}
	l.agree(s)

	// Deregistration: cssm forgot the node, the node did not hear it.
	lost = l.loseAnswer(cssmapi.PathDeregister)
	if err := s.Deregister(ctx); err == nil || !strings.Contains(err.Error(), "sent again") {
		t.Fatalf("deregister with its answer lost: %v", err)
	}
	if err := s.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	if r := report(t, s); r.Registration.Status != Unregistered {
		t.Fatalf("after the retry: %s", r.Registration.Status)
	}
	l.agree(s)
}

// A call whose request never left (connection refused) is forgotten: the
// state stays exactly as it was, and nothing is sent again later.
func TestACallThatNeverLeftChangesNothing(t *testing.T) {
	l := newLicensing(t)
	dir := t.TempDir()
	s := l.node(dir, t0)
	l.srv.Close()
	before, _ := os.ReadFile(s.store.Path())
	if _, err := s.Register(context.Background(), "whatever", false); err == nil || strings.Contains(err.Error(), "sent again") {
		t.Fatalf("register with cssm down: %v", err)
	}
	if after, _ := os.ReadFile(s.store.Path()); string(after) != string(before) {
		t.Fatalf("the state changed:\n%s", after)
	}
}

// forge answers every call itself with status and body, signed by key
// (nil: unsigned).
func (l *licensing) forge(key *ecdsa.PrivateKey, status int, body string) {
	l.on(func(w http.ResponseWriter, r *http.Request) bool {
		if key != nil {
			sig, _ := cssmapi.SignAnswer(key, r.URL.Path, r.Header.Get(cssmapi.HeaderIdempotencyKey), status, []byte(body))
			w.Header().Set(cssmapi.HeaderSignature, sig)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(body))
		return true
	})
}

// A server without a trusted key, and a man in the middle on plain HTTP,
// can neither register the node, nor grant it licences, nor make it drop
// its registration: their answers count as no answer at all.
func TestOnlyTrustedAnswersCount(t *testing.T) {
	l := newLicensing(t)
	dir := t.TempDir()
	s := l.node(dir, t0)
	ctx := context.Background()
	impostor, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	trust := statedir.Node(dir).Trust()
	registered := `{"instance_id":"evil","credential":"evil","smart_account":"Evil SA","virtual_account":"Evil VA","export_allowed":true}`

	for name, key := range map[string]*ecdsa.PrivateKey{"unsigned": nil, "signed by another key": impostor} {
		l.forge(key, 200, registered)
		_, err := s.Register(ctx, l.token(1, false), false)
		if err == nil || !strings.Contains(err.Error(), trust) || !strings.Contains(err.Error(), "cssm key") {
			t.Fatalf("%s: register: %v", name, err)
		}
		if r := report(t, s); r.Registration.Status != Unregistered {
			t.Fatalf("%s: an untrusted answer registered the node", name)
		}
		// The request reached someone: it is sent again, next time to cssm.
		l.intercept.Store(nil)
		if err := s.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		l.agree(s)
		if err := s.Deregister(ctx); err != nil {
			t.Fatal(err)
		}
	}

	if _, err := s.Register(ctx, l.token(1, false), false); err != nil {
		t.Fatal(err)
	}
	before := report(t, s)
	// A man in the middle rewrites cssm's genuine, signed answers.
	l.on(func(w http.ResponseWriter, r *http.Request) bool {
		rec := httptest.NewRecorder()
		l.api.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		body := strings.ReplaceAll(rec.Body.String(), "InCompliance", "OutOfCompliance")
		body = strings.ReplaceAll(body, `"SA"`, `"Evil SA"`)
		w.WriteHeader(rec.Code)
		w.Write([]byte(body))
		return true
	})
	s = serviceAt(t, dir, t0.Add(AuthRenewEvery), inUse)
	if err := s.RenewAuth(ctx); err == nil || !strings.Contains(err.Error(), trust) {
		t.Fatalf("renew auth through the man in the middle: %v", err)
	}
	if err := s.RenewID(ctx); err == nil || !strings.Contains(err.Error(), trust) {
		t.Fatalf("renew ID through the man in the middle: %v", err)
	}
	after := report(t, s)
	if after.Registration.SmartAccount != "SA" || *after.Authorization.Since != *before.Authorization.Since {
		t.Fatalf("a rewritten answer was believed: %+v", after.Registration)
	}
	if a := after.Authorization.LastCommunication; a == nil || a.Succeeded || !strings.Contains(a.Reason, "not signed by a trusted key") {
		t.Fatalf("the failure is not recorded: %+v", a)
	}

	// A forged "cssm no longer knows you" does not make the node drop its
	// registration.
	l.forge(nil, 404, `{"code":"instance_not_found","message":"gone"}`)
	if err := s.Deregister(ctx); err == nil || !strings.Contains(err.Error(), "cssm key") {
		t.Fatalf("deregister: %v", err)
	}
	if r := report(t, s); r.Registration.Status != Registered {
		t.Fatalf("a forged refusal deregistered the node: %s", r.Registration.Status)
	}
	l.intercept.Store(nil)
	if err := s.RunDue(ctx); err != nil { // the deregistration, sent again to cssm
		t.Fatal(err)
	}
	l.agree(s)
}

// An empty trust folder trusts no one, and says how to fix it.
func TestAnEmptyTrustFolderTrustsNoOne(t *testing.T) {
	l := newLicensing(t)
	dir := t.TempDir()
	s := l.node(dir, t0)
	trust := statedir.Node(dir).Trust()
	if err := os.Remove(filepath.Join(trust, "cssm.pem")); err != nil {
		t.Fatal(err)
	}
	_, err := s.Register(context.Background(), l.token(1, false), false)
	if err == nil || !strings.Contains(err.Error(), "the trust folder holds no key") || !strings.Contains(err.Error(), "cssm key > "+trust) {
		t.Fatalf("register: %v", err)
	}
	if fi, err := os.Stat(trust); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("trust folder: %v %v", fi.Mode(), err)
	}
}

// Ten registrations at once on one node (ten stores, as ten processes
// have): exactly one succeeds, nine are refused in so many words, and the
// node holds the one credential cssm knows.
func TestTenRegistrationsOneWinner(t *testing.T) {
	const n = 10
	l := newLicensing(t)
	dir := t.TempDir()
	l.node(dir, t0)
	tok := l.token(0, false)
	refused := make(chan struct{}, n)
	var first atomic.Bool
	l.on(func(w http.ResponseWriter, r *http.Request) bool {
		// Hold the first registration until the others have given up, so
		// that they all overlap with it.
		if r.URL.Path == cssmapi.PathRegister && first.CompareAndSwap(false, true) {
			deadline := time.After(10 * time.Second)
			for range n - 1 {
				select {
				case <-refused:
				case <-deadline:
				}
			}
		}
		return false
	})
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
		errs []error
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := serviceAt(t, dir, t0, inUse)
			_, err := s.Register(context.Background(), tok, false)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				wins++
				return
			}
			errs = append(errs, err)
			refused <- struct{}{}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d registrations succeeded; refusals: %v", wins, errs)
	}
	for _, err := range errs {
		if !errors.Is(err, errRegistrationInProgress) && !strings.Contains(err.Error(), "already registered") {
			t.Fatalf("refused with: %v", err)
		}
	}
	l.agree(serviceAt(t, dir, t0, inUse))
}

// register racing reservation enable: one of them wins, and cssm never
// holds an instance the node does not know.
func TestRegisterRacingReservationEnable(t *testing.T) {
	l := newLicensing(t)
	dir := t.TempDir()
	l.node(dir, t0)
	entered := make(chan struct{})
	release := make(chan struct{})
	l.on(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == cssmapi.PathRegister {
			close(entered)
			select {
			case <-release:
			case <-time.After(10 * time.Second):
			}
		}
		return false
	})
	done := make(chan error, 1)
	go func() {
		_, err := serviceAt(t, dir, t0, inUse).Register(context.Background(), l.token(1, false), false)
		done <- err
	}()
	<-entered // the registration is on its way to cssm
	err := serviceAt(t, dir, t0, inUse).ReservationEnable()
	close(release)
	if !errors.Is(err, errRegistrationInProgress) {
		t.Fatalf("reservation enable during a registration: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s := serviceAt(t, dir, t0, inUse)
	if r := report(t, s); r.Registration.Status != Registered || r.Reservation.Status != ReservationDisabled {
		t.Fatalf("%s, %s", r.Registration.Status, r.Reservation.Status)
	}
	l.agree(s)
}

// A process killed mid-call leaves the call in the slot; another process
// does not wait for it (the owner is gone), the next command settles it.
func TestACallOfADeadProcessIsSettled(t *testing.T) {
	l := newLicensing(t)
	dir := t.TempDir()
	s := l.node(dir, t0)
	tok := l.token(1, false)
	ctx := context.Background()
	// What a process killed right after sending left behind.
	lost := l.loseAnswer(cssmapi.PathRegister)
	if _, err := s.Register(ctx, tok, false); err == nil {
		t.Fatal("the answer was not lost")
	}
	dead := exec1(t)
	s.store.Update(func(st *State) error {
		st.Call.Owner, st.Call.Until = dead, time.Now().Add(time.Hour)
		return nil
	})
	if lost.Load() != 1 {
		t.Fatal("no answer lost")
	}
	if err := serviceAt(t, dir, t0, inUse).RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	l.agree(s)
	if r := report(t, s); r.Registration.Status != Registered {
		t.Fatalf("%s", r.Registration.Status)
	}
	if n := l.tokenUses(tok); n != 1 {
		t.Fatalf("the single-use token was used %d times", n)
	}
}

// exec1 is the PID of a process that has exited.
func exec1(t *testing.T) int {
	t.Helper()
	p, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	return p.Pid
}

// A trusted but hostile (or broken) licensing server cannot steer the
// admin's terminal: whatever it sends, no ESC, CR or other control
// character reaches the node's state, trace, reports or messages.
func TestServerTextIsSanitizedOnReceipt(t *testing.T) {
	l := newLicensing(t)
	dir := t.TempDir()
	s := l.node(dir, t0)
	hostile, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	writeTrustedKey(t, dir, &hostile.PublicKey) // the admin trusts it
	const evil = "\x1b]0;pwned\x07\x1b[2J\r\nadmin:\u202e\x9b"
	l.on(func(w http.ResponseWriter, r *http.Request) bool {
		var status int
		var body string
		switch r.URL.Path {
		case cssmapi.PathRegister:
			status, body = 200, `{"instance_id":"i-1","credential":"c","smart_account":"SA\u001b]0;x\u0007","virtual_account":"VA\r\nadmin:","export_allowed":true}`
		case cssmapi.PathAuthorize:
			status, body = 200, `{"status":"AUTHORIZED","entitlements":[{"tag":"`+lab(inUse).usage()[0].Tag+`","display_name":"Enh\u001b[31m","description":"d\r","count":5,"status":"InCompliance\u001b[0m"}]}`
		default:
			status, body = 409, `{"code":"no_export_keys\u001b","message":"`+strings.ReplaceAll(strings.ReplaceAll(evil, "\x1b", `\u001b`), "\r\n", `\r\n`)+`"}`
		}
		sig, _ := cssmapi.SignAnswer(hostile, r.URL.Path, r.Header.Get(cssmapi.HeaderIdempotencyKey), status, []byte(body))
		w.Header().Set(cssmapi.HeaderSignature, sig)
		w.WriteHeader(status)
		w.Write([]byte(body))
		return true
	})
	ctx := context.Background()
	res, err := s.Register(ctx, "tok", false)
	if err != nil {
		t.Fatal(err)
	}
	msgs := []string{res.SmartAccount, res.VirtualAccount}
	if err := s.RenewID(ctx); err != nil {
		msgs = append(msgs, err.Error())
	}
	if err := s.ExportRequest(ctx, ExportFeature); err != nil {
		msgs = append(msgs, err.Error())
	}
	state, _ := os.ReadFile(s.store.Path())
	msgs = append(msgs, traceText(t, s), string(state))
	for _, e := range report(t, s).Usage.Entitlements {
		msgs = append(msgs, e.DisplayName, e.Description, e.Status)
	}
	for _, m := range msgs {
		if i := strings.IndexFunc(m, func(r rune) bool { return r == 0x1b || r == '\r' || r == 0x07 || r == 0x9b || r == '\u202e' }); i >= 0 {
			t.Fatalf("server text reached the node raw: %q", m)
		}
	}
	if !strings.Contains(strings.Join(msgs, ""), `\x1b`) {
		t.Fatalf("the hostile text was dropped, not shown escaped: %q", msgs)
	}
}

// Opening a fresh state folder makes its trust/ folder, private, so that the
// place for the licensing server's key is there before anyone looks for it.
func TestAFreshStateHasATrustFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	if _, err := OpenStore(dir); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(statedir.Node(dir).Trust())
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("trust/: %v, %v", fi, err)
	}
}
