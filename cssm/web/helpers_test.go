package web

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/internal/clock"

	"github.com/ucmsh/ucmsh/cssm"
	"github.com/ucmsh/ucmsh/cssmapi"
	"github.com/ucmsh/ucmsh/reservation"
)

var t0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// site is a cssm serving the product API and the portal on loopback, with
// users "alice" (admin), "bob" (user) and "carol" (read-only), all with the
// password "correct horse".
type site struct {
	t      testing.TB
	store  *cssm.Store
	clock  *clock.Manual
	portal *cssm.Portal
	srv    *httptest.Server
	web    *Handler
}

const password = "correct horse"

func newSite(t testing.TB) *site { return newSiteAt(t, t.TempDir()+"/cssm") }

func newSiteAt(t testing.TB, dir string) *site {
	t.Helper()
	store, err := cssm.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := &site{t: t, store: store, clock: clock.NewManual(t0)}
	s.portal = &cssm.Portal{Store: store, Clock: s.clock}
	api := cssm.NewServer(store, s.clock, nil)
	s.web = New(s.portal, false)
	s.srv = httptest.NewServer(cssm.WithPortal(api, s.web))
	t.Cleanup(func() { s.srv.Close(); api.Close(); store.Close() })
	for _, u := range [][2]string{{"alice", cssm.RoleAdmin}, {"bob", cssm.RoleUser}, {"carol", cssm.RoleReadOnly}} {
		s.must(s.portal.AddUser(u[0], password, u[1], "", ""))
	}
	s.must(s.portal.CreateAccount("BU", "TAC"))
	return s
}

func (s *site) must(_ string, err error) {
	s.t.Helper()
	if err != nil {
		s.t.Fatal(err)
	}
}

func tierTag(tier string) string {
	e, ok := cssmapi.LookupTier(tier)
	if !ok {
		panic(tier)
	}
	return e.Tag
}

// udi is test product n's UDI (n < 16), in the form CUCM reports.
func udi(n int) string {
	sn := "3762" + strconv.FormatInt(int64(n), 16)
	return "PID:UCM,SN:" + sn + ",UUID:6fe83addc80240bc92dc071ac7a" + sn
}

// register registers product n with tok and reports its usage, as a node does.
func (s *site) register(tok string, n int, host string, usage map[string]int) cssmapi.Identity {
	s.t.Helper()
	c := &cssmapi.Client{BaseURL: s.srv.URL, SkipAnswerVerification: true}
	resp, err := c.Register(context.Background(), cssmapi.RegisterRequest{Token: tok, UDI: udi(n), Hostname: host, Version: "15.0.1"})
	if err != nil {
		s.t.Fatal(err)
	}
	id := resp.Identity()
	var us []cssmapi.Usage
	for tier, k := range usage {
		us = append(us, cssmapi.Usage{Tag: tierTag(tier), Count: k})
	}
	if _, err := c.Authorize(context.Background(), id, us); err != nil {
		s.t.Fatal(err)
	}
	return id
}

// seed is the state the golden pages show: two virtual accounts, licences
// with a shortage and a term about to end, two registered products, a
// reservation, tokens, and an event log written by several people.
func (s *site) seed() (reservedUDI string, returnCode string) {
	s.t.Helper()
	s.must(s.portal.CreateAccount("BU", "Lab"))
	alice := s.portal.As("alice")
	s.must(alice.AddLicense("TAC", cssm.LicenseSpec{Tier: "Enhanced", Count: 12}))
	s.must(alice.AddLicense("TAC", cssm.LicenseSpec{Tier: "Basic", Count: 2}))
	s.must(alice.AddLicense("TAC", cssm.LicenseSpec{Tier: "CUWL", Count: 4, TermEnd: t0.AddDate(0, 0, 20).Format(time.DateOnly)}))
	tok, err := s.portal.As("bob").CreateToken("TAC", cssm.TokenOptions{ExpiresDays: 30, MaxUses: 5, Description: "Lab cluster"})
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := alice.CreateToken("TAC", cssm.TokenOptions{ExpiresDays: 90, AllowExport: true}); err != nil {
		s.t.Fatal(err)
	}
	s.clock.Add(time.Hour)
	s.register(tok, 1, "cucm-pub", map[string]int{"Enhanced": 6, "Basic": 1})
	s.clock.Add(3 * time.Hour)
	s.register(tok, 2, "cucm-sub", map[string]int{"Enhanced": 3, "Essential": 2, "TelePresenceRoom": 2})
	s.clock.Add(2 * time.Hour)
	u, _ := reservation.ParseUDI(udi(3))
	is, err := alice.Reserve(cssm.ReserveOptions{Virtual: "TAC", Product: reservation.RequestCode(u), Licenses: []cssm.LicenseRequest{{Tag: tierTag("Enhanced"), Count: 1, Type: cssm.Perpetual}}})
	if err != nil {
		s.t.Fatal(err)
	}
	ac, err := reservation.ParseAuthCode(is.Code)
	if err != nil {
		s.t.Fatal(err)
	}
	s.clock.Add(time.Hour)
	return is.UDI, reservation.ReturnCode(ac)
}

// browser is a user agent with cookies that does not follow redirects.
type browser struct {
	t    testing.TB
	s    *site
	c    *http.Client
	csrf string
}

func (s *site) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: s.t, s: s, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(req *http.Request) (int, http.Header, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return resp.StatusCode, resp.Header, string(body)
}

func (b *browser) get(path string) (int, http.Header, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.s.srv.URL+path, nil)
	return b.do(req)
}

// post sends a form, with the page's CSRF token unless form has its own.
func (b *browser) post(path string, form url.Values) (int, http.Header, string) {
	b.t.Helper()
	if _, ok := form["csrf"]; !ok && b.csrf != "" {
		form.Set("csrf", b.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, b.s.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// loginForm fetches the login page, for its CSRF token and cookie.
func (b *browser) loginForm() {
	b.t.Helper()
	b.csrf = ""
	if status, _, _ := b.get("/portal/login"); status != http.StatusOK || b.csrf == "" {
		b.t.Fatalf("login page: %d, csrf %q", status, b.csrf)
	}
}

func (b *browser) login(user string) {
	b.t.Helper()
	b.loginForm()
	status, h, body := b.post("/portal/login", url.Values{"user": {user}, "password": {password}, "next": {"/portal/"}})
	if status != http.StatusSeeOther {
		b.t.Fatalf("login as %s: %d %s", user, status, body)
	}
	if h.Get("Location") != "/portal/" {
		b.t.Fatalf("login went to %q", h.Get("Location"))
	}
	b.get("/portal/?va=TAC") // picks up the session's CSRF token
}
