package cssm

import (
	"bytes"
	"crypto/ecdsa"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
)

// api is a lab with its product API served on 127.0.0.1.
type api struct {
	*lab
	url string
}

func newAPI(t testing.TB) *api {
	l := newLab(t)
	srv := NewServer(l.store, l.clock, nil)
	ts := httptest.NewServer(srv) // listens on 127.0.0.1
	t.Cleanup(func() { ts.Close(); srv.Close() })
	return &api{lab: l, url: ts.URL}
}

// post sends body (a value to encode, or raw []byte) and returns status and JSON answer.
func (a *api) post(path, credential string, body any) (int, map[string]any) {
	a.t.Helper()
	data, ok := body.([]byte)
	if !ok {
		data, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(http.MethodPost, a.url+path, bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/json")
	if credential != "" {
		req.Header.Set("Authorization", "Bearer "+credential)
	}
	return a.do(req)
}

func (a *api) do(req *http.Request) (int, map[string]any) {
	a.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		a.t.Fatalf("%s %s: Content-Type %q", req.Method, req.URL.Path, ct)
	}
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		a.t.Fatal(err)
	}
	return resp.StatusCode, out
}

func (a *api) register(tok string, n int) (id, cred string) {
	a.t.Helper()
	status, out := a.post(cssmapi.PathRegister, "", regReq(tok, n))
	if status != http.StatusOK {
		a.t.Fatalf("register: %d %v", status, out)
	}
	return out["instance_id"].(string), out["credential"].(string)
}

// wantError checks a refusal: status, code, and a message that is one sentence.
func wantError(t *testing.T, status int, out map[string]any, wantCode string) {
	t.Helper()
	code, _ := out["code"].(string)
	msg, _ := out["message"].(string)
	if code != wantCode || status != cssmapi.HTTPStatus(wantCode) {
		t.Fatalf("got %d %q (%s), want %d %q", status, code, msg, cssmapi.HTTPStatus(wantCode), wantCode)
	}
	if !strings.HasSuffix(msg, ".") || strings.Count(msg, ". ") > 0 {
		t.Errorf("message %q is not one sentence", msg)
	}
}

func TestRegisterRenewAuthorizeDeregister(t *testing.T) {
	a := newAPI(t)
	a.addLicense("Enhanced", 5)
	a.addLicense("CUWL", 1)
	tok := a.token(TokenOptions{MaxUses: 1, AllowExport: true})

	status, reg := a.post(cssmapi.PathRegister, "", regReq(tok, 1))
	if status != 200 || reg["smart_account"] != "BU" || reg["virtual_account"] != "TAC" || reg["export_allowed"] != true {
		t.Fatalf("register: %d %v", status, reg)
	}
	id, cred := reg["instance_id"].(string), reg["credential"].(string)

	status, renew := a.post(cssmapi.PathRenewID, cred, cssmapi.InstanceRequest{InstanceID: id})
	if status != 200 || renew["ok"] != true || renew["virtual_account"] != "TAC" {
		t.Fatalf("renew-id: %d %v", status, renew)
	}

	var auth cssmapi.AuthorizeResponse
	a.authorize(id, cred, &auth, cssmapi.Usage{Tag: tag("Enhanced"), Count: 6}, cssmapi.Usage{Tag: tag("Basic"), Count: 0})
	want := cssmapi.AuthorizeResponse{Status: cssmapi.StatusAuthorized, Entitlements: []cssmapi.EntitlementStatus{
		{Tag: tag("Enhanced"), DisplayName: "UC Manager Enhanced License (12.x)", Description: "UC Manager Enhanced License", Count: 6, Status: cssmapi.InCompliance, BorrowedFrom: tag("CUWL")},
		{Tag: tag("Basic"), DisplayName: "UC Manager Basic License  (12.x)", Description: "UC Manager Basic License", Count: 0, Status: cssmapi.InCompliance},
	}}
	if got, _ := json.Marshal(auth); string(got) != string(mustJSON(want)) {
		t.Fatalf("authorize:\n got %s\nwant %s", got, mustJSON(want))
	}

	if status, out := a.post(cssmapi.PathDeregister, cred, cssmapi.InstanceRequest{InstanceID: id}); status != 200 || out["ok"] != true {
		t.Fatalf("deregister: %d %v", status, out)
	}
	status, out := a.post(cssmapi.PathRenewID, cred, cssmapi.InstanceRequest{InstanceID: id})
	wantError(t, status, out, cssmapi.CodeInstanceNotFound)
}

func (a *api) authorize(id, cred string, out *cssmapi.AuthorizeResponse, usage ...cssmapi.Usage) {
	a.t.Helper()
	status, raw := a.post(cssmapi.PathAuthorize, cred, cssmapi.AuthorizeRequest{InstanceID: id, Usage: usage})
	if status != 200 {
		a.t.Fatalf("authorize: %d %v", status, raw)
	}
	data, _ := json.Marshal(raw)
	if err := json.Unmarshal(data, out); err != nil {
		a.t.Fatal(err)
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func TestComplianceIsForTheWholeVirtualAccount(t *testing.T) {
	a := newAPI(t)
	a.addLicense("Enhanced", 5)
	tok := a.token(TokenOptions{})
	id1, cred1 := a.register(tok, 1)
	id2, cred2 := a.register(tok, 2)

	var auth cssmapi.AuthorizeResponse
	a.authorize(id1, cred1, &auth, cssmapi.Usage{Tag: tag("Enhanced"), Count: 4})
	if auth.Status != cssmapi.StatusAuthorized {
		t.Fatalf("first product alone: %s", auth.Status)
	}
	// Together they use 7 of 5: both are out of compliance.
	a.authorize(id2, cred2, &auth, cssmapi.Usage{Tag: tag("Enhanced"), Count: 3})
	if auth.Status != cssmapi.StatusOutOfCompliance || auth.Entitlements[0].Status != cssmapi.OutOfCompliance {
		t.Fatalf("second product: %+v", auth)
	}
	a.authorize(id1, cred1, &auth, cssmapi.Usage{Tag: tag("Enhanced"), Count: 4})
	if auth.Status != cssmapi.StatusOutOfCompliance {
		t.Fatalf("first product again: %s", auth.Status)
	}
	// A product reporting nothing in use is never out of compliance.
	a.authorize(id1, cred1, &auth, cssmapi.Usage{Tag: tag("Enhanced"), Count: 0})
	if auth.Status != cssmapi.StatusNoLicensesInUse || auth.Entitlements[0].Status != cssmapi.InCompliance {
		t.Fatalf("zero usage: %+v", auth)
	}
	a.authorize(id2, cred2, &auth, cssmapi.Usage{Tag: tag("Enhanced"), Count: 3})
	if auth.Status != cssmapi.StatusAuthorized {
		t.Fatalf("after the first product's usage dropped: %s", auth.Status)
	}
}

func TestReRegisteringReplacesTheInstance(t *testing.T) {
	a := newAPI(t)
	a.addLicense("Enhanced", 5)
	a.must(a.portal.AddExportKeys("TAC", 1))
	tok := a.token(TokenOptions{AllowExport: true})
	oldID, oldCred := a.register(tok, 1)
	if status, out := a.post(cssmapi.PathExportRequest, oldCred, cssmapi.ExportRequest{InstanceID: oldID, Feature: cssmapi.ExportFeature}); status != 200 {
		t.Fatalf("export request: %d %v", status, out)
	}

	newID, newCred := a.register(tok, 1) // same UDI, same virtual account, no force
	if newID == oldID {
		t.Fatal("re-registration kept the old instance id")
	}
	status, out := a.post(cssmapi.PathRenewID, oldCred, cssmapi.InstanceRequest{InstanceID: oldID})
	wantError(t, status, out, cssmapi.CodeInstanceNotFound)
	// The old instance's key went back to the pool, so the new one can take it.
	if status, out := a.post(cssmapi.PathExportRequest, newCred, cssmapi.ExportRequest{InstanceID: newID, Feature: cssmapi.ExportFeature}); status != 200 {
		t.Fatalf("export request after re-registration: %d %v", status, out)
	}
	if list, _ := a.portal.Instances(""); len(list) != 1 {
		t.Fatalf("%d instances after re-registration, want 1", len(list))
	}
}

func TestMovingToAnotherVirtualAccountNeedsForce(t *testing.T) {
	a := newAPI(t)
	a.must(a.portal.CreateAccount("BU", "Lab"))
	tok := a.token(TokenOptions{})
	labTok, err := a.portal.CreateToken("Lab", TokenOptions{ExpiresDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	a.register(tok, 1)

	status, out := a.post(cssmapi.PathRegister, "", regReq(labTok, 1))
	wantError(t, status, out, cssmapi.CodeAlreadyRegistered)
	if !strings.Contains(out["message"].(string), `"TAC"`) {
		t.Errorf("message does not name the current virtual account: %s", out["message"])
	}

	req := regReq(labTok, 1)
	req.Force = true
	status, out = a.post(cssmapi.PathRegister, "", req)
	if status != 200 || out["virtual_account"] != "Lab" {
		t.Fatalf("forced move: %d %v", status, out)
	}
	if list, _ := a.portal.Instances("TAC"); len(list) != 0 {
		t.Fatalf("instance still in TAC after the move: %+v", list)
	}
}

func TestRegistrationRefusals(t *testing.T) {
	a := newAPI(t)
	once := a.token(TokenOptions{MaxUses: 1})
	a.register(once, 1)
	expiring := a.token(TokenOptions{ExpiresDays: 1})
	a.clock.Add(24 * time.Hour)

	for _, tt := range []struct {
		name string
		req  cssmapi.RegisterRequest
		code string
	}{
		{"unknown token", regReq("no-such-token", 2), cssmapi.CodeTokenUnknown},
		{"expired token", regReq(expiring, 2), cssmapi.CodeTokenExpired},
		{"used-up token", regReq(once, 2), cssmapi.CodeTokenUsedUp},
		{"bad UDI", cssmapi.RegisterRequest{Token: once, UDI: "UCM 37624"}, cssmapi.CodeBadRequest},
		{"control characters in the host name", cssmapi.RegisterRequest{Token: once, UDI: udi(2), Hostname: "a\x1b[2Jb"}, cssmapi.CodeBadRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := fileBytes(t, a.store)
			status, out := a.post(cssmapi.PathRegister, "", tt.req)
			wantError(t, status, out, tt.code)
			if !bytes.Equal(fileBytes(t, a.store), before) {
				t.Error("a refused registration changed the store")
			}
		})
	}
}

func fileBytes(t *testing.T, s *Store) []byte {
	t.Helper()
	return storeDump(t, s)
}

func TestCallsAfterRegistrationNeedTheCredential(t *testing.T) {
	a := newAPI(t)
	tok := a.token(TokenOptions{})
	id, cred := a.register(tok, 1)
	_, otherCred := a.register(tok, 2)
	paths := map[string]any{
		cssmapi.PathRenewID:       cssmapi.InstanceRequest{InstanceID: id},
		cssmapi.PathAuthorize:     cssmapi.AuthorizeRequest{InstanceID: id},
		cssmapi.PathDeregister:    cssmapi.InstanceRequest{InstanceID: id},
		cssmapi.PathExportRequest: cssmapi.ExportRequest{InstanceID: id, Feature: cssmapi.ExportFeature},
		cssmapi.PathExportReturn:  cssmapi.ExportRequest{InstanceID: id, Feature: cssmapi.ExportFeature},
	}
	for path, body := range paths {
		for _, c := range []string{"", "wrong", otherCred, cred + "x"} {
			status, out := a.post(path, c, body)
			wantError(t, status, out, cssmapi.CodeUnauthorized)
		}
		status, out := a.post(path, cred, map[string]string{"instance_id": "00000000-0000-4000-8000-000000000000"})
		wantError(t, status, out, cssmapi.CodeInstanceNotFound)
	}
}

func TestRemovedInstanceGetsInstanceNotFound(t *testing.T) {
	a := newAPI(t)
	id, cred := a.register(a.token(TokenOptions{}), 1)
	a.must(a.portal.RemoveInstance(id, RemoveOptions{})) // another process's portal action, through the same files
	status, out := a.post(cssmapi.PathAuthorize, cred, cssmapi.AuthorizeRequest{InstanceID: id})
	wantError(t, status, out, cssmapi.CodeInstanceNotFound)
}

func TestAuthorizeRefusals(t *testing.T) {
	a := newAPI(t)
	id, cred := a.register(a.token(TokenOptions{}), 1)
	for _, tt := range []struct {
		name  string
		usage []cssmapi.Usage
		code  string
	}{
		{"unknown tag", []cssmapi.Usage{{Tag: "regid.2016-07.com.cisco.UCM_Gold", Count: 1}}, cssmapi.CodeUnknownEntitlement},
		{"negative count", []cssmapi.Usage{{Tag: tag("Basic"), Count: -1}}, cssmapi.CodeBadRequest},
		{"tag twice", []cssmapi.Usage{{Tag: tag("Basic"), Count: 1}, {Tag: tag("Basic"), Count: 2}}, cssmapi.CodeBadRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, out := a.post(cssmapi.PathAuthorize, cred, cssmapi.AuthorizeRequest{InstanceID: id, Usage: tt.usage})
			wantError(t, status, out, tt.code)
		})
	}
}

func TestExportKeys(t *testing.T) {
	a := newAPI(t)
	a.must(a.portal.AddExportKeys("TAC", 1))
	exportTok := a.token(TokenOptions{AllowExport: true})
	id1, cred1 := a.register(exportTok, 1)
	id2, cred2 := a.register(exportTok, 2)
	id3, cred3 := a.register(a.token(TokenOptions{}), 3)
	req := func(id string) cssmapi.ExportRequest {
		return cssmapi.ExportRequest{InstanceID: id, Feature: cssmapi.ExportFeature}
	}

	status, out := a.post(cssmapi.PathExportRequest, cred3, req(id3))
	wantError(t, status, out, cssmapi.CodeExportNotAllowed)

	status, out = a.post(cssmapi.PathExportRequest, cred1, cssmapi.ExportRequest{InstanceID: id1, Feature: "Strong_Crypto"})
	wantError(t, status, out, cssmapi.CodeUnknownFeature)

	status, out = a.post(cssmapi.PathExportRequest, cred1, req(id1))
	if status != 200 || len(out["features"].([]any)) != 1 {
		t.Fatalf("export request: %d %v", status, out)
	}
	// Asking again for a key already held takes no second key.
	if status, out = a.post(cssmapi.PathExportRequest, cred1, req(id1)); status != 200 {
		t.Fatalf("repeated export request: %d %v", status, out)
	}
	status, out = a.post(cssmapi.PathExportRequest, cred2, req(id2))
	wantError(t, status, out, cssmapi.CodeNoExportKeys)

	status, out = a.post(cssmapi.PathExportReturn, cred2, req(id2))
	wantError(t, status, out, cssmapi.CodeNotHeld)

	if status, out = a.post(cssmapi.PathExportReturn, cred1, req(id1)); status != 200 || len(out["features"].([]any)) != 0 {
		t.Fatalf("export return: %d %v", status, out)
	}
	if status, out = a.post(cssmapi.PathExportRequest, cred2, req(id2)); status != 200 {
		t.Fatalf("export request after the return: %d %v", status, out)
	}
	// Deregistering releases the key.
	a.post(cssmapi.PathDeregister, cred2, cssmapi.InstanceRequest{InstanceID: id2})
	if status, out = a.post(cssmapi.PathExportRequest, cred1, req(id1)); status != 200 {
		t.Fatalf("export request after deregistration: %d %v", status, out)
	}
}

func TestMalformedRequests(t *testing.T) {
	a := newAPI(t)
	raw := func(method, path, contentType string, body []byte) (int, map[string]any) {
		req, _ := http.NewRequest(method, a.url+path, bytes.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		return a.do(req)
	}
	for _, tt := range []struct {
		name                string
		method, path, ctype string
		body                []byte
		code                string
	}{
		{"unknown path", "POST", "/v1/nothing", "application/json", []byte(`{}`), cssmapi.CodeNotFound},
		{"unversioned path", "POST", "/register", "application/json", []byte(`{}`), cssmapi.CodeNotFound},
		{"GET on a POST path", "GET", cssmapi.PathRegister, "", nil, cssmapi.CodeMethodNotAllowed},
		{"form post", "POST", cssmapi.PathRegister, "application/x-www-form-urlencoded", []byte(`token=x`), cssmapi.CodeUnsupportedMediaType},
		{"text/plain post (no CORS preflight)", "POST", cssmapi.PathRegister, "text/plain", []byte(`{}`), cssmapi.CodeUnsupportedMediaType},
		{"not JSON", "POST", cssmapi.PathRegister, "application/json", []byte(`token=x`), cssmapi.CodeBadRequest},
		{"two JSON objects", "POST", cssmapi.PathRegister, "application/json", []byte(`{} {}`), cssmapi.CodeBadRequest},
		{"wrong field type", "POST", cssmapi.PathAuthorize, "application/json", []byte(`{"usage": "all"}`), cssmapi.CodeBadRequest},
		{"body over 1 MiB", "POST", cssmapi.PathRegister, "application/json", bytes.Repeat([]byte(" "), cssmapi.MaxBodyBytes+1), cssmapi.CodeBodyTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, out := raw(tt.method, tt.path, tt.ctype, tt.body)
			wantError(t, status, out, tt.code)
		})
	}
	if status, out := raw("GET", cssmapi.PathHealth, "", nil); status != 200 || out["ok"] != true {
		t.Fatalf("health: %d %v", status, out)
	}
}

func TestClosedServerAnswersUnavailable(t *testing.T) {
	l := newLab(t)
	srv := NewServer(l.store, l.clock, nil)
	srv.Close()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", cssmapi.PathRegister, strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	srv.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(string(body), cssmapi.CodeUnavailable) {
		t.Fatalf("%d %s", rec.Code, body)
	}
}

// A database that cannot take the write (here: locked by another writer past
// the busy timeout) makes the call fail with 503 and a sentence, changes
// nothing, and the next call after the lock is gone works.
func TestLockedDatabaseAnswers503AndRecovers(t *testing.T) {
	sqliteOnly(t)
	defer func(old int) { sqliteBusyTimeoutMS = old }(sqliteBusyTimeoutMS)
	sqliteBusyTimeoutMS = 200
	a := newAPI(t)
	tok := a.token(TokenOptions{})
	before := storeDump(t, a.store)

	other, err := sql.Open("sqlite", "file:"+filepath.Join(a.store.Dir(), dbFile))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	status, out := a.post(cssmapi.PathRegister, "", regReq(tok, 1))
	wantError(t, status, out, cssmapi.CodeUnavailable)
	if msg := out["message"].(string); !strings.Contains(msg, "database is busy") {
		t.Fatalf("message %q does not say the database is busy", msg)
	}
	conn.ExecContext(t.Context(), "ROLLBACK")
	conn.Close()
	if !bytes.Equal(storeDump(t, a.store), before) {
		t.Fatal("a call refused for a locked database changed the store")
	}
	a.register(tok, 1)
}

// A database that is full or read-only: the call fails with 503 saying so,
// and nothing is half-written.
func TestFullOrReadOnlyDatabaseAnswers503(t *testing.T) {
	sqliteOnly(t)
	for _, c := range []struct {
		pragma, says string
	}{
		{"max_page_count(40)", "database is full"},
		{"query_only(1)", "database is read-only"},
	} {
		t.Run(c.says, func(t *testing.T) {
			a := newAPI(t)
			a.addLicense("Enhanced", 5)
			tok := a.token(TokenOptions{})
			dir := a.store.Dir()
			before := storeDump(t, a.store)

			sqliteTestPragmas = []string{c.pragma}
			store, err := openStore(t, dir)
			sqliteTestPragmas = nil
			if err != nil {
				t.Fatal(err)
			}
			b := &api{lab: &lab{t: t, store: store, clock: a.clock, portal: &Portal{Store: store, Clock: a.clock}}}
			srv := NewServer(store, a.clock, nil)
			ts := httptest.NewServer(srv)
			defer func() { ts.Close(); srv.Close(); store.Close() }()
			b.url = ts.URL
			var status int
			var out map[string]any
			// Fill the database, if that is the failure, until it says so.
			for n := range 400 {
				if status, out = b.post(cssmapi.PathRegister, "", regReq(tok, n)); status != 200 {
					break
				}
				before = storeDump(t, a.store)
			}
			wantError(t, status, out, cssmapi.CodeUnavailable)
			if msg := out["message"].(string); !strings.Contains(msg, c.says) {
				t.Fatalf("message %q does not say %q", msg, c.says)
			}
			if !bytes.Equal(storeDump(t, a.store), before) {
				t.Fatal("the refused call changed the store")
			}
			a.register(tok, 1000) // the healthy connection still works
		})
	}
}

// A call that panics (a bug) fails alone: the others of its batch are
// committed, nothing of its own is, and the server goes on answering.
func TestAPanickingCallFailsAloneAndTheServerGoesOn(t *testing.T) {
	l := newLab(t)
	srv := NewServer(l.store, l.clock, nil)
	defer srv.Close()
	addKey := func(st *State, _ time.Time) (any, error) {
		_, va := st.findVA("TAC")
		va.ExportKeys++
		return map[string]int{"keys": va.ExportKeys}, nil
	}
	buggy := func(st *State, now time.Time) (any, error) {
		addKey(st, now)
		panic("a bug")
	}
	batch := make([]*call, 8)
	for i := range batch {
		batch[i] = &call{op: addKey, path: cssmapi.PathAuthorize, done: make(chan struct{})}
	}
	batch[3].op = buggy
	srv.commit(batch) // as the commit loop does, with one batch
	for i, c := range batch {
		<-c.done
		if (i == 3) != (c.err == errPanicked) || (i != 3) != (c.ans != nil && c.ans.status == 200) {
			t.Errorf("call %d: %v %+v", i, c.err, c.ans)
		}
	}
	if ans, err := srv.submit(&call{op: addKey, path: cssmapi.PathAuthorize}); err != nil || ans.status != 200 {
		t.Fatalf("after the panic: %v %+v", err, ans)
	}
	if got := exportKeys(t, l.store.Dir()); got != 8 {
		t.Fatalf("export keys = %d, want 7 from the batch and 1 after", got)
	}
}

// Over HTTP, a request whose handler panics gets an answer, not a dropped
// connection: the REST API's error body, or the product API's signed
// internal error (which a node reports as a failure).
func TestAPanickingRequestIsAnswered(t *testing.T) {
	l := newLab(t)
	srv := NewServer(l.store, l.clock, nil)
	defer srv.Close()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer srv.recoverPanic(w, r)
		panic("a bug")
	}))
	defer ts.Close()
	key, _ := l.store.SigningKey()
	for _, path := range []string{"/api/v1/accounts/BU/virtual-accounts/TAC/tokens", cssmapi.PathAuthorize} {
		resp, err := http.Post(ts.URL+path, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var v map[string]any
		if err := json.Unmarshal(body, &v); err != nil || resp.StatusCode != 500 {
			t.Fatalf("%s: %d %q", path, resp.StatusCode, body)
		}
		if path == cssmapi.PathAuthorize {
			if v["code"] != cssmapi.CodeInternal {
				t.Errorf("%s: %v", path, v)
			}
			if err := cssmapi.VerifyAnswer([]*ecdsa.PublicKey{&key.PublicKey}, path, "", 500, body, resp.Header.Get(cssmapi.HeaderSignature)); err != nil {
				t.Errorf("%s: %v", path, err)
			}
		} else if v["status"] != "ERROR" || v["statusMessage"] != msgRESTInternal {
			t.Errorf("%s: %v", path, v)
		}
	}
}
