package cssm

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
)

// rawAnswer is one answer as the node sees it.
type rawAnswer struct {
	status int
	body   []byte
	sig    string
}

// send posts body under an idempotency key ("" for none) and returns the raw answer.
func (a *api) send(path, key, credential string, body any) rawAnswer {
	a.t.Helper()
	data, ok := body.([]byte)
	if !ok {
		data, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(http.MethodPost, a.url+path, bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set(cssmapi.HeaderIdempotencyKey, key)
	}
	if credential != "" {
		req.Header.Set("Authorization", "Bearer "+credential)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return rawAnswer{resp.StatusCode, out, resp.Header.Get(cssmapi.HeaderSignature)}
}

func (a *api) signingKey() *ecdsa.PublicKey {
	a.t.Helper()
	k, err := a.store.SigningKey()
	if err != nil {
		a.t.Fatal(err)
	}
	return &k.PublicKey
}

// verified fails the test unless the store's signing key signed ans for path and key.
func (a *api) verified(path, key string, ans rawAnswer) {
	a.t.Helper()
	if err := cssmapi.VerifyAnswer([]*ecdsa.PublicKey{a.signingKey()}, path, key, ans.status, ans.body, ans.sig); err != nil {
		a.t.Fatalf("%s answer %d %s: %v", path, ans.status, ans.body, err)
	}
}

func (a *api) counts(tok string) (instances, uses int) {
	a.t.Helper()
	a.store.View(func(st *State) error {
		instances, uses = st.countInstances(), st.token(tok).Uses
		return nil
	})
	return
}

func TestEveryAnswerOfAStateChangingCallIsSigned(t *testing.T) {
	a := newAPI(t)
	a.addLicense("Enhanced", 5)
	a.store.Update(func(st *State) error { _, va := st.findVA("TAC"); va.ExportKeys = 1; return nil })
	tok := a.token(TokenOptions{AllowExport: true})
	key := cssmapi.NewIdempotencyKey

	k := key()
	reg := a.send(cssmapi.PathRegister, k, "", regReq(tok, 1))
	a.verified(cssmapi.PathRegister, k, reg)
	var r cssmapi.RegisterResponse
	json.Unmarshal(reg.body, &r)
	inst := cssmapi.InstanceRequest{InstanceID: r.InstanceID}
	exp := cssmapi.ExportRequest{InstanceID: r.InstanceID, Feature: cssmapi.ExportFeature}

	for _, c := range []struct {
		path, cred string
		body       any
		status     int
	}{
		{cssmapi.PathRenewID, r.Credential, inst, 200},
		{cssmapi.PathAuthorize, r.Credential, cssmapi.AuthorizeRequest{InstanceID: r.InstanceID, Usage: []cssmapi.Usage{{Tag: tag("Enhanced"), Count: 2}}}, 200},
		{cssmapi.PathExportRequest, r.Credential, exp, 200},
		{cssmapi.PathExportReturn, r.Credential, exp, 200},
		{cssmapi.PathExportReturn, r.Credential, exp, 409},              // refusal: not held
		{cssmapi.PathRenewID, "wrong", inst, 401},                       // refusal: credential
		{cssmapi.PathRegister, "", regReq("no-such-token", 2), 403},     // refusal: token
		{cssmapi.PathAuthorize, r.Credential, []byte(`{"usage":`), 400}, // refused before the store
		{cssmapi.PathDeregister, r.Credential, inst, 200},
	} {
		k := key()
		ans := a.send(c.path, k, c.cred, c.body)
		if ans.status != c.status {
			t.Fatalf("%s: %d %s, want %d", c.path, ans.status, ans.body, c.status)
		}
		a.verified(c.path, k, ans)
		// Bound to its path and key: useless as the answer to anything else.
		if cssmapi.VerifyAnswer([]*ecdsa.PublicKey{a.signingKey()}, cssmapi.PathRegister+"x", k, ans.status, ans.body, ans.sig) == nil ||
			cssmapi.VerifyAnswer([]*ecdsa.PublicKey{a.signingKey()}, c.path, key(), ans.status, ans.body, ans.sig) == nil {
			t.Fatalf("%s: the signature verifies for another path or key", c.path)
		}
	}
	// Old clients send no key: still signed, bound to the empty key.
	ans := a.send(cssmapi.PathRegister, "", "", regReq(tok, 3))
	a.verified(cssmapi.PathRegister, "", ans)
	// A malformed key is refused, signed.
	ans = a.send(cssmapi.PathRegister, "short", "", regReq(tok, 4))
	if ans.status != 400 {
		t.Fatalf("malformed key: %d %s", ans.status, ans.body)
	}
	a.verified(cssmapi.PathRegister, "", ans)
}

func TestARepeatedKeyGetsTheFirstAnswerAndChangesNothing(t *testing.T) {
	a := newAPI(t)
	tok := a.token(TokenOptions{MaxUses: 1})
	k := cssmapi.NewIdempotencyKey()
	first := a.send(cssmapi.PathRegister, k, "", regReq(tok, 1))
	if first.status != 200 {
		t.Fatalf("register: %d %s", first.status, first.body)
	}
	// The answer was lost; the node sends the same call again.
	again := a.send(cssmapi.PathRegister, k, "", regReq(tok, 1))
	if again.status != first.status || !bytes.Equal(again.body, first.body) || again.sig != first.sig {
		t.Fatalf("repeat differs:\n first %d %s %s\n again %d %s %s", first.status, first.body, first.sig, again.status, again.body, again.sig)
	}
	if n, uses := a.counts(tok); n != 1 || uses != 1 {
		t.Fatalf("after a repeated register: %d instances, token used %d times; want 1 and 1", n, uses)
	}

	// Same key, another body or path: a reuse, refused and signed.
	for _, c := range []struct {
		path string
		body any
	}{
		{cssmapi.PathRegister, regReq(tok, 2)},
		{cssmapi.PathDeregister, cssmapi.InstanceRequest{InstanceID: "x"}},
	} {
		ans := a.send(c.path, k, "", c.body)
		var e cssmapi.Error
		json.Unmarshal(ans.body, &e)
		if ans.status != 422 || e.Code != cssmapi.CodeIdempotencyReused {
			t.Fatalf("%s with a used key: %d %s", c.path, ans.status, ans.body)
		}
		a.verified(c.path, k, ans)
	}

	// A refusal is recorded too: the same answer even after the cause is gone.
	tok2 := a.token(TokenOptions{MaxUses: 1})
	a.register(tok2, 3)
	k2 := cssmapi.NewIdempotencyKey()
	refused := a.send(cssmapi.PathRegister, k2, "", regReq(tok2, 4))
	if refused.status != 403 {
		t.Fatalf("register with a used-up token: %d %s", refused.status, refused.body)
	}
	a.store.Update(func(st *State) error { st.token(tok2).MaxUses = 0; return nil })
	if again := a.send(cssmapi.PathRegister, k2, "", regReq(tok2, 4)); !bytes.Equal(again.body, refused.body) || again.status != 403 {
		t.Fatalf("repeat of a refusal: %d %s", again.status, again.body)
	}

	// Without a key there is no replay: an old client registers twice.
	a.send(cssmapi.PathRegister, "", "", regReq(tok2, 5))
	a.send(cssmapi.PathRegister, "", "", regReq(tok2, 6))
	if n, _ := a.counts(tok2); n != 4 {
		t.Fatalf("%d instances, want 4", n)
	}
}

// Ten copies of one call at once (a node retrying over several connections):
// one change, ten identical answers.
func TestConcurrentRepeatsOfOneKeyMakeOneChange(t *testing.T) {
	a := newAPI(t)
	tok := a.token(TokenOptions{})
	k := cssmapi.NewIdempotencyKey()
	answers := make([]rawAnswer, 10)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Go(func() { answers[i] = a.send(cssmapi.PathRegister, k, "", regReq(tok, 1)) })
	}
	wg.Wait()
	for _, ans := range answers[1:] {
		if !bytes.Equal(ans.body, answers[0].body) || ans.sig != answers[0].sig {
			t.Fatalf("answers differ: %s / %s", answers[0].body, ans.body)
		}
	}
	if n, uses := a.counts(tok); n != 1 || uses != 1 {
		t.Fatalf("%d instances, token used %d times; want 1 and 1", n, uses)
	}
}

// The record is saved with the change: a cssm restarted (or killed) after
// answering still replays it, and keeps it at least a week, not for ever.
func TestIdempotencyRecordsSurviveARestartForAWeek(t *testing.T) {
	a := newAPI(t)
	tok := a.token(TokenOptions{ExpiresDays: 365})
	k := cssmapi.NewIdempotencyKey()
	first := a.send(cssmapi.PathRegister, k, "", regReq(tok, 1))

	restart := func() *api {
		store, err := openStore(t, a.store.Dir())
		if err != nil {
			t.Fatal(err)
		}
		srv := NewServer(store, a.clock, nil)
		ts := httptest.NewServer(srv)
		t.Cleanup(func() { ts.Close(); srv.Close(); store.Close() })
		return &api{lab: &lab{t: t, store: store, clock: a.clock, portal: &Portal{Store: store, Clock: a.clock}}, url: ts.URL}
	}
	b := restart()
	a.clock.Add(IdempotencyRetention - time.Minute)
	if again := b.send(cssmapi.PathRegister, k, "", regReq(tok, 1)); !bytes.Equal(again.body, first.body) {
		t.Fatalf("after a restart: %s, want %s", again.body, first.body)
	}
	a.clock.Add(pruneEvery + 2*time.Minute)
	b.send(cssmapi.PathRenewID, cssmapi.NewIdempotencyKey(), "x", cssmapi.InstanceRequest{InstanceID: "y"}) // any call prunes
	var left int
	b.store.View(func(st *State) error { st.tx.row(`SELECT COUNT(*) FROM idempotency`, nil, &left); return nil })
	if left != 1 { // only the renew-id just made
		t.Fatalf("%d records left, want the old one pruned", left)
	}
}

func TestOpenRemovesStaleTemporaryFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cssm")
	os.MkdirAll(dir, 0o700)
	stale := filepath.Join(dir, "cssm.json.tmp-123456")
	keep := filepath.Join(dir, "notes.tmp-1")
	os.WriteFile(stale, []byte(`{"version":1`), 0o600)
	os.WriteFile(keep, nil, 0o600)
	s, err := openStore(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("a killed writer's %s is still there: %v", stale, err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Fatalf("a file that is not cssm's was removed: %v", err)
	}
}
