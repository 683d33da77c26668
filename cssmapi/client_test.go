package cssmapi_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/internal/clock"

	"github.com/ucmsh/ucmsh/cssm"
	"github.com/ucmsh/ucmsh/cssmapi"
)

var now = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

const udi = "PID:UCM,SN:37624,UUID:6fe83addc80240bc92dc071ac7a37624"

// lab is a cssm store with virtual account TAC (5 Enhanced licences, one export
// key) and an export-allowing token, served over HTTP on 127.0.0.1.
type lab struct {
	store *cssm.Store
	token string
	srv   *httptest.Server
}

func newLab(t *testing.T, tlsOn bool) *lab {
	t.Helper()
	store, err := cssm.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p := &cssm.Portal{Store: store, Clock: clock.Fixed(now)}
	steps := []func() (string, error){
		func() (string, error) { return p.CreateAccount("BU", "TAC") },
		func() (string, error) { return p.AddLicense("TAC", cssm.LicenseSpec{Tier: "Enhanced", Count: 5}) },
		func() (string, error) { return p.AddExportKeys("TAC", 1) },
	}
	for _, step := range steps {
		if _, err := step(); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := p.CreateToken("TAC", cssm.TokenOptions{ExpiresDays: 30, AllowExport: true})
	if err != nil {
		t.Fatal(err)
	}
	api := cssm.NewServer(store, clock.Fixed(now), nil)
	srv := httptest.NewUnstartedServer(api) // 127.0.0.1
	if tlsOn {
		cert, _, err := store.TLSCertificate()
		if err != nil {
			t.Fatal(err)
		}
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(func() { srv.Close(); api.Close(); store.Close() })
	return &lab{store: store, token: tok, srv: srv}
}

// trusted is what a node that trusts this cssm has in its trust/ folder.
func (l *lab) trusted(t *testing.T) []*ecdsa.PublicKey {
	key, err := l.store.SigningKey()
	if err != nil {
		t.Fatal(err)
	}
	return []*ecdsa.PublicKey{&key.PublicKey}
}

func (l *lab) fingerprint(t *testing.T) string {
	cert, _, err := l.store.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	return cssmapi.Fingerprint(cert.Certificate[0])
}

func TestClientRoundTrip(t *testing.T) {
	l := newLab(t, false)
	ctx := t.Context()
	c := &cssmapi.Client{Trusted: l.trusted(t), BaseURL: l.srv.URL}

	reg, err := c.Register(ctx, cssmapi.RegisterRequest{Token: l.token, UDI: udi, Hostname: "cucm-pub", Version: "15.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if reg.SmartAccount != "BU" || reg.VirtualAccount != "TAC" || !reg.ExportAllowed {
		t.Fatalf("register: %+v", reg)
	}
	id := reg.Identity()

	if r, err := c.RenewID(ctx, id); err != nil || !r.OK {
		t.Fatalf("renew ID: %+v %v", r, err)
	}
	enhanced, _ := cssmapi.LookupTier("Enhanced")
	auth, err := c.Authorize(ctx, id, []cssmapi.Usage{{Tag: enhanced.Tag, Count: 5}})
	if err != nil || auth.Status != cssmapi.StatusAuthorized || auth.Entitlements[0].Description != "UC Manager Enhanced License" {
		t.Fatalf("authorize: %+v %v", auth, err)
	}
	if auth, err = c.Authorize(ctx, id, nil); err != nil || auth.Status != cssmapi.StatusNoLicensesInUse {
		t.Fatalf("authorize nothing: %+v %v", auth, err)
	}
	if r, err := c.ExportRequest(ctx, id, cssmapi.ExportFeature); err != nil || len(r.Features) != 1 {
		t.Fatalf("export request: %+v %v", r, err)
	}
	if r, err := c.ExportReturn(ctx, id, cssmapi.ExportFeature); err != nil || len(r.Features) != 0 {
		t.Fatalf("export return: %+v %v", r, err)
	}
	if err := c.Deregister(ctx, id); err != nil {
		t.Fatal(err)
	}

	_, err = c.RenewID(ctx, id)
	var apiErr *cssmapi.Error
	if !errors.As(err, &apiErr) || apiErr.Code != cssmapi.CodeInstanceNotFound || apiErr.Status != http.StatusNotFound {
		t.Fatalf("renew after deregister: %#v", err)
	}
	if errors.Is(err, cssmapi.ErrUnreachable) {
		t.Fatal("a refusal looks like an unreachable server")
	}
}

func TestClientErrorsAreTyped(t *testing.T) {
	l := newLab(t, false)
	c := &cssmapi.Client{Trusted: l.trusted(t), BaseURL: l.srv.URL + "/"} // a trailing slash is fine
	_, err := c.Register(t.Context(), cssmapi.RegisterRequest{Token: "nope", UDI: udi})
	if !cssmapi.IsCode(err, cssmapi.CodeTokenUnknown) {
		t.Fatalf("unknown token: %v", err)
	}
	reg, _ := c.Register(t.Context(), cssmapi.RegisterRequest{Token: l.token, UDI: udi})
	id := reg.Identity()
	id.Credential = "stolen"
	if _, err := c.RenewID(t.Context(), id); !cssmapi.IsCode(err, cssmapi.CodeUnauthorized) {
		t.Fatalf("wrong credential: %v", err)
	}
}

func TestUnreachableServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now

	c := &cssmapi.Client{SkipAnswerVerification: true, BaseURL: "http://" + addr}
	_, err = c.RenewID(t.Context(), cssmapi.Identity{InstanceID: "x", Credential: "y"})
	var unreachable *cssmapi.UnreachableError
	if !errors.As(err, &unreachable) || !errors.Is(err, cssmapi.ErrUnreachable) {
		t.Fatalf("error = %#v, want an UnreachableError", err)
	}
	if !strings.Contains(err.Error(), "cannot reach the licensing server at http://"+addr) {
		t.Fatalf("message: %v", err)
	}

	// A timeout is unreachable too, and still recognisable as a deadline.
	stop := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-stop }))
	defer hang.Close()
	defer close(stop)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err = (&cssmapi.Client{SkipAnswerVerification: true, BaseURL: hang.URL}).RenewID(ctx, cssmapi.Identity{})
	if !errors.Is(err, cssmapi.ErrUnreachable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout: %v", err)
	}
}

func TestNotACSSMServer(t *testing.T) {
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<html>Bad Gateway</html>", http.StatusBadGateway)
	}))
	defer proxy.Close()
	_, err := (&cssmapi.Client{SkipAnswerVerification: true, BaseURL: proxy.URL}).RenewID(t.Context(), cssmapi.Identity{})
	var apiErr *cssmapi.Error
	if !errors.As(err, &apiErr) || apiErr.Code != cssmapi.CodeBadResponse || apiErr.Status != http.StatusBadGateway {
		t.Fatalf("error = %#v", err)
	}
	if !strings.Contains(apiErr.Message, "502 Bad Gateway") || !strings.Contains(apiErr.Message, "check the transport URL") {
		t.Fatalf("message: %s", apiErr.Message)
	}
}

func TestPinnedCertificate(t *testing.T) {
	l := newLab(t, true)
	req := cssmapi.RegisterRequest{Token: l.token, UDI: udi}

	pinned := &cssmapi.Client{Trusted: l.trusted(t), BaseURL: l.srv.URL, PinnedCertSHA256: l.fingerprint(t)}
	if _, err := pinned.Register(t.Context(), req); err != nil {
		t.Fatalf("pinned client: %v", err)
	}
	// The same pin written as plain lower-case hex.
	plain := strings.ToLower(strings.ReplaceAll(l.fingerprint(t), ":", ""))
	if _, err := (&cssmapi.Client{Trusted: l.trusted(t), BaseURL: l.srv.URL, PinnedCertSHA256: plain}).Register(t.Context(), req); err != nil {
		t.Fatalf("plain-hex pin: %v", err)
	}

	wrong := &cssmapi.Client{Trusted: l.trusted(t), BaseURL: l.srv.URL, PinnedCertSHA256: strings.Repeat("AB:", 31) + "AB"}
	_, err := wrong.Register(t.Context(), req)
	if !errors.Is(err, cssmapi.ErrPinMismatch) || !errors.Is(err, cssmapi.ErrUnreachable) {
		t.Fatalf("wrong pin: %v", err)
	}

	// Without a pin the self-signed certificate is not trusted.
	if _, err := (&cssmapi.Client{Trusted: l.trusted(t), BaseURL: l.srv.URL}).Register(t.Context(), req); !errors.Is(err, cssmapi.ErrUnreachable) {
		t.Fatalf("unpinned client: %v", err)
	}

	for _, c := range []*cssmapi.Client{
		{BaseURL: l.srv.URL, PinnedCertSHA256: "not-hex"},
		{BaseURL: strings.Replace(l.srv.URL, "https", "http", 1), PinnedCertSHA256: l.fingerprint(t)},
	} {
		_, err := c.Register(t.Context(), req)
		if err == nil || errors.Is(err, cssmapi.ErrUnreachable) {
			t.Errorf("%s with pin %q: %v, want a configuration error", c.BaseURL, c.PinnedCertSHA256, err)
		}
	}
}
