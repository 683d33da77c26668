package cssmapi_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/ucmsh/ucmsh/cssmapi"
)

// signer is a licensing server that signs every answer with key and
// remembers the idempotency key of each request.
func signer(t *testing.T, key *ecdsa.PrivateKey, status int, body string) (*httptest.Server, func() []string) {
	var (
		mu   sync.Mutex
		keys []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := r.Header.Get(cssmapi.HeaderIdempotencyKey)
		mu.Lock()
		keys = append(keys, k)
		mu.Unlock()
		sig, _ := cssmapi.SignAnswer(key, r.URL.Path, k, status, []byte(body))
		w.Header().Set(cssmapi.HeaderSignature, sig)
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(keys) }
}

// The client believes an answer only if a trusted key signed it for this
// very call; a man in the middle who rewrites it gets an untrusted answer,
// which counts as no answer.
func TestTheClientBelievesOnlySignedAnswers(t *testing.T) {
	cssmKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	trusted := []*ecdsa.PublicKey{&cssmKey.PublicKey}
	srv, keys := signer(t, cssmKey, 200, `{"ok":true,"smart_account":"SA","virtual_account":"VA"}`)
	c := &cssmapi.Client{BaseURL: srv.URL, Trusted: trusted}
	id := cssmapi.Identity{InstanceID: "i", Credential: "c"}
	if r, err := c.RenewID(t.Context(), id); err != nil || r.SmartAccount != "SA" {
		t.Fatalf("genuine answer: %+v %v", r, err)
	}
	if k := keys(); len(k) != 1 || !cssmapi.ValidIdempotencyKey(k[0]) {
		t.Fatalf("idempotency keys sent: %q", k)
	}

	// On the way back, someone changes the body.
	mitm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Post(srv.URL+r.URL.Path, "application/json", r.Body)
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		w.Header().Set(cssmapi.HeaderSignature, resp.Header.Get(cssmapi.HeaderSignature))
		w.Write([]byte(`{"ok":true,"smart_account":"Evil","virtual_account":"VA"}`))
	}))
	defer mitm.Close()
	untrusted := func(name string, c *cssmapi.Client) {
		t.Helper()
		_, err := c.RenewID(t.Context(), id)
		var u *cssmapi.UntrustedAnswerError
		if !errors.As(err, &u) || !errors.Is(err, cssmapi.ErrUnreachable) {
			t.Errorf("%s: %v, want an untrusted answer", name, err)
		}
	}
	untrusted("rewritten", &cssmapi.Client{BaseURL: mitm.URL, Trusted: trusted})
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	untrusted("another key", &cssmapi.Client{BaseURL: srv.URL, Trusted: []*ecdsa.PublicKey{&other.PublicKey}})
	untrusted("no keys", &cssmapi.Client{BaseURL: srv.URL})
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(404)
		w.Write([]byte(`{"code":"instance_not_found","message":"forgotten"}`))
	}))
	defer plain.Close()
	untrusted("unsigned refusal", &cssmapi.Client{BaseURL: plain.URL, Trusted: trusted})
}

// A request that never left says so: the caller knows nothing happened.
func TestUnreachableSaysWhetherTheRequestLeft(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close() // read, then hung up: it may have been acted on
	}))
	var ue *cssmapi.UnreachableError
	_, err := (&cssmapi.Client{BaseURL: srv.URL}).RenewID(t.Context(), cssmapi.Identity{})
	if !errors.As(err, &ue) || !ue.Sent {
		t.Fatalf("hung up after the request: %v (sent %v)", err, ue != nil && ue.Sent)
	}
	srv.Close()
	_, err = (&cssmapi.Client{BaseURL: srv.URL}).RenewID(t.Context(), cssmapi.Identity{})
	if !errors.As(err, &ue) || ue.Sent {
		t.Fatalf("connection refused: %v (sent %v)", err, ue != nil && ue.Sent)
	}
}

// Whatever a server answers, decoding never panics, and nothing it says
// reaches the caller with a control character in it.
func FuzzDecodeAnswer(f *testing.F) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	trusted := []*ecdsa.PublicKey{&key.PublicKey}
	f.Add(200, []byte(`{"instance_id":"i","credential":"c","smart_account":"SA\u001b[2J","virtual_account":"VA"}`), true)
	f.Add(409, []byte(`{"code":"no_export_keys","message":"none\r\nadmin: "}`), true)
	f.Add(404, []byte(`{"code":"instance_not_found"}`), false)
	f.Add(502, []byte(`<html>bad gateway</html>`), true)
	f.Add(200, []byte(`{"status":"AUTHORIZED","entitlements":[{"tag":"t","display_name":"\u009b31m"}]}`), true)
	f.Add(200, []byte(`null`), true)
	f.Fuzz(func(t *testing.T, status int, body []byte, sign bool) {
		const path, idem = cssmapi.PathAuthorize, "0123456789abcdef0123"
		a := cssmapi.Answer{Path: path, Key: idem, Status: status, StatusText: "x", Body: body}
		if sign {
			a.Signature, _ = cssmapi.SignAnswer(key, path, idem, status, body)
		}
		var out cssmapi.AuthorizeResponse
		err := a.Decode(trusted, true, &out)
		if !sign {
			if _, ok := errors.AsType[*cssmapi.UntrustedAnswerError](err); !ok {
				t.Fatalf("an unsigned answer was decoded: %v", err)
			}
			return
		}
		texts := []string{out.Status}
		for _, e := range out.Entitlements {
			texts = append(texts, e.Tag, e.DisplayName, e.Description, e.Status, e.BorrowedFrom)
		}
		if e, ok := errors.AsType[*cssmapi.Error](err); ok {
			texts = append(texts, e.Code, e.Message)
		}
		for _, s := range texts {
			if strings.ContainsFunc(s, unicode.IsControl) {
				t.Fatalf("control character in %q", s)
			}
		}
	})
}
