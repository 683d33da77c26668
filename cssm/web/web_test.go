package web

import (
	"bytes"
	"html"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/ucmsh/ucmsh/cssm"
	"github.com/ucmsh/ucmsh/golden"
	"github.com/ucmsh/ucmsh/reservation"
)

func TestPagesNeedALogin(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	status, h, _ := b.get("/portal/?va=TAC&tab=licenses")
	if status != http.StatusSeeOther || h.Get("Location") != "/portal/login?next="+url.QueryEscape("/portal/?va=TAC&tab=licenses") {
		t.Fatalf("GET without a session: %d to %q, want 303 to the login page", status, h.Get("Location"))
	}
	if status, _, _ := b.post("/portal/token/create", url.Values{"va": {"TAC"}, "expires_days": {"30"}}); status != http.StatusForbidden {
		t.Fatalf("POST without a session: %d, want 403", status)
	}
	if status, _, _ := b.get("/portal/licenses.csv?va=TAC"); status != http.StatusSeeOther {
		t.Fatalf("CSV without a session: %d, want 303", status)
	}
}

// The stylesheet is served to anyone; nothing else under static/ is: no
// listing, no redirect, no other method.
func TestStaticServesOnlyItsFiles(t *testing.T) {
	s := newSite(t)
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/portal/static/portal.css", http.StatusOK},
		{"HEAD", "/portal/static/portal.css", http.StatusOK},
		{"GET", "/portal/static/", http.StatusNotFound},
		{"GET", "/portal/static/.", http.StatusNotFound},
		{"GET", "/portal/static/../web.go", http.StatusNotFound},
		{"GET", "/portal/static/nope.css", http.StatusNotFound},
		{"POST", "/portal/static/portal.css", http.StatusMethodNotAllowed},
		{"0", "/portal/static/.", http.StatusMethodNotAllowed},
	} {
		rec := httptest.NewRecorder()
		s.web.ServeHTTP(rec, httptest.NewRequest(c.method, "http://127.0.0.1"+c.path, nil))
		if rec.Code != c.want || rec.Header().Get("Location") != "" {
			t.Errorf("%s %s: %d Location %q, want %d and no redirect", c.method, c.path, rec.Code, rec.Header().Get("Location"), c.want)
		}
	}
}

func TestSessionCookieIsHttpOnlyStrictAndSecureWithTLS(t *testing.T) {
	s := newSite(t)
	for _, secure := range []bool{false, true} {
		h := New(s.portal, secure)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, loginRequest("alice", password, "127.0.0.1"))
		var cs []*http.Cookie
		for _, c := range rec.Result().Cookies() {
			if c.Name == cookieName {
				cs = append(cs, c)
			}
		}
		if rec.Code != http.StatusSeeOther || len(cs) != 1 {
			t.Fatalf("login: %d, cookies %v", rec.Code, cs)
		}
		c := cs[0]
		if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure != secure || c.Path != Prefix {
			t.Errorf("TLS %v: cookie %+v, want HttpOnly, SameSite=Strict, Secure=%v, Path=%s", secure, c, secure, Prefix)
		}
	}
}

func TestLoginRedirectsOnlyToLocalPaths(t *testing.T) {
	s := newSite(t)
	for _, next := range []string{"//evil.example/portal/", "https://evil.example/portal/", "/\\evil.example", "http:/portal/", "/elsewhere", "/portal/\r\nSet-Cookie: x", "javascript:alert(1)"} {
		b := s.browser()
		b.loginForm()
		status, h, _ := b.post("/portal/login", url.Values{"user": {"alice"}, "password": {password}, "next": {next}})
		if status != http.StatusSeeOther || h.Get("Location") != "/portal/" {
			t.Errorf("next=%q: %d to %q, want 303 to /portal/", next, status, h.Get("Location"))
		}
	}
	b := s.browser()
	b.loginForm()
	if _, h, _ := b.post("/portal/login", url.Values{"user": {"alice"}, "password": {password}, "next": {"/portal/?va=TAC&tab=alerts"}}); h.Get("Location") != "/portal/?va=TAC&tab=alerts" {
		t.Errorf("a local next went to %q", h.Get("Location"))
	}
}

func TestRepeatedFailuresLockTheUserOut(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	b.loginForm()
	for i := 0; i < maxFailures; i++ {
		if status, _, _ := b.post("/portal/login", url.Values{"user": {"alice"}, "password": {"wrong password"}}); status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i+1, status)
		}
	}
	status, _, body := b.post("/portal/login", url.Values{"user": {"alice"}, "password": {password}})
	if status != http.StatusTooManyRequests || !strings.Contains(body, "Too many failed sign-ins") {
		t.Fatalf("right password while locked: %d, want 429 with a sentence", status)
	}
	s.clock.Add(failureWindow)
	if status, _, _ := b.post("/portal/login", url.Values{"user": {"alice"}, "password": {password}}); status != http.StatusSeeOther {
		t.Fatalf("after the lock-out: %d, want 303", status)
	}
}

// An attacker at 127.0.0.2 spraying user names is locked out by address; the
// admin at 127.0.0.1 still signs in.
func TestRepeatedFailuresLockTheAddressOut(t *testing.T) {
	s := newSite(t)
	try := func(addr, user, pass string) int {
		rec := httptest.NewRecorder()
		s.web.ServeHTTP(rec, loginRequest(user, pass, addr))
		return rec.Code
	}
	for i := 0; i < maxFailures; i++ {
		try("127.0.0.2", "guess"+string(rune('a'+i)), "wrong password")
	}
	if got := try("127.0.0.2", "bob", password); got != http.StatusTooManyRequests {
		t.Errorf("the attacker's address with a right password: %d, want 429", got)
	}
	if got := try("127.0.0.1", "alice", password); got != http.StatusSeeOther {
		t.Errorf("the admin from another address: %d, want 303", got)
	}
}

// loginRequest is a login form post from addr with its CSRF cookie and field.
func loginRequest(user, pass, addr string) *http.Request {
	const tok = "0123456789012345678901234567890123456789abc"
	req := httptest.NewRequest(http.MethodPost, "/portal/login", strings.NewReader(url.Values{"user": {user}, "password": {pass}, "csrf": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: loginCookie, Value: tok})
	req.RemoteAddr = addr + ":40000"
	return req
}

// A page elsewhere cannot post the login form: without the login page's
// token (cookie and field) the right password signs no one in.
func TestLoginNeedsTheLoginPagesCSRFToken(t *testing.T) {
	s := newSite(t)
	for _, mutate := range []func(*http.Request){
		func(r *http.Request) { r.Header.Del("Cookie") },
		func(r *http.Request) {
			r.Header.Del("Cookie")
			r.AddCookie(&http.Cookie{Name: loginCookie, Value: "other-token-other-token-other-token-other-t"})
		},
	} {
		req := loginRequest("alice", password, "127.0.0.1")
		mutate(req)
		rec := httptest.NewRecorder()
		s.web.ServeHTTP(rec, req)
		for _, c := range rec.Result().Cookies() {
			if c.Name == cookieName {
				t.Fatalf("a forged login got a session cookie")
			}
		}
		if rec.Code != http.StatusForbidden {
			t.Fatalf("a forged login: %d, want 403", rec.Code)
		}
	}
}

func TestLockoutTablesAreBounded(t *testing.T) {
	var l lockout
	now := t0
	for i := 0; i < maxTracked+500; i++ {
		l.fail("user"+itoa(i), now)
	}
	if len(l.m) > maxTracked {
		t.Fatalf("%d entries tracked, at most %d", len(l.m), maxTracked)
	}
	var ss sessions
	for i := 0; i < maxSessions+10; i++ {
		ss.create("u", now)
	}
	if len(ss.m) > maxSessions {
		t.Fatalf("%d sessions, at most %d", len(ss.m), maxSessions)
	}
}

func TestEveryPostNeedsTheSessionsCSRFToken(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	b.login("alice")
	for _, csrf := range []string{"", "forged", strings.Repeat("A", 43)} {
		status, _, _ := b.post("/portal/token/create", url.Values{"csrf": {csrf}, "va": {"TAC"}, "expires_days": {"30"}})
		if status != http.StatusForbidden {
			t.Errorf("csrf %q: %d, want 403", csrf, status)
		}
	}
	if status, _, _ := b.post("/portal/logout", url.Values{"csrf": {"forged"}}); status != http.StatusForbidden {
		t.Errorf("logout with a forged token: %d, want 403", status)
	}
	if ts, _ := s.portal.Tokens("TAC"); len(ts) != 0 {
		t.Fatalf("a forged form made %d tokens", len(ts))
	}
	// Another session's token does not do either.
	other := s.browser()
	other.login("bob")
	if status, _, _ := b.post("/portal/token/create", url.Values{"csrf": {other.csrf}, "va": {"TAC"}, "expires_days": {"30"}}); status != http.StatusForbidden {
		t.Errorf("another session's token: %d, want 403", status)
	}
}

func TestLogoutEndsTheSession(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	b.login("alice")
	if status, h, _ := b.post("/portal/logout", url.Values{}); status != http.StatusSeeOther || h.Get("Location") != "/portal/login" {
		t.Fatalf("logout: %d to %q", status, h.Get("Location"))
	}
	if status, _, _ := b.get("/portal/?va=TAC"); status != http.StatusSeeOther {
		t.Fatalf("after logout: %d, want 303 to the login page", status)
	}
}

func TestTokenCreateListRevoke(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	b.login("bob")
	status, _, body := b.post("/portal/token/create", url.Values{"va": {"TAC"}, "description": {"Lab"}, "expires_days": {"10"}, "max_uses": {"3"}, "allow_export": {"on"}})
	if status != http.StatusOK {
		t.Fatalf("create: %d %s", status, body)
	}
	ts, _ := s.portal.Tokens("TAC")
	if len(ts) != 1 || ts[0].Description != "Lab" || ts[0].MaxUses != 3 || !ts[0].AllowExport || !ts[0].Expires.Equal(t0.AddDate(0, 0, 10)) {
		t.Fatalf("tokens %+v", ts)
	}
	if !strings.Contains(body, ts[0].Token) || !strings.Contains(body, "0 of 3 (3 left)") {
		t.Fatalf("the page does not show the new token and its uses left")
	}
	if status, _, _ := b.post("/portal/token/revoke", url.Values{"va": {"TAC"}, "token": {ts[0].Token}}); status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", status)
	}
	if ts, _ := s.portal.Tokens("TAC"); ts[0].Status != "REVOKED" {
		t.Fatalf("after revoke: %s", ts[0].Status)
	}
	evs, _ := s.portal.Events("TAC", "token", 10)
	if len(evs) != 2 || evs[0].Kind != cssm.EventTokenRevoked || evs[0].Actor != "bob" || evs[1].Actor != "bob" {
		t.Fatalf("events %+v", evs)
	}
}

func TestFormFieldsAreValidated(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	b.login("alice")
	for _, f := range []url.Values{
		{"expires_days": {"0"}},
		{"expires_days": {"366"}},
		{"expires_days": {"ten"}},
		{"expires_days": {"30"}, "max_uses": {"-1"}},
		{"expires_days": {"30"}, "max_uses": {"1e3"}},
		{"expires_days": {"30"}, "description": {strings.Repeat("x", 101)}},
		{"expires_days": {"30"}, "description": {"line\nbreak"}},
		{"expires_days": {"30"}, "description": {"bell\a"}},
	} {
		f.Set("va", "TAC")
		status, _, body := b.post("/portal/token/create", f)
		if status != http.StatusBadRequest || !strings.Contains(body, `class="error"`) {
			t.Errorf("%v: %d, want 400 with the error on the page", f, status)
		}
	}
	if ts, _ := s.portal.Tokens("TAC"); len(ts) != 0 {
		t.Fatalf("invalid forms made %d tokens", len(ts))
	}
	for _, f := range []url.Values{
		{"va": {strings.Repeat("T", 300)}, "expires_days": {"30"}},
		{"va": {"TAC\x1b[31m"}, "expires_days": {"30"}},
	} {
		if status, _, body := b.post("/portal/token/create", f); status != http.StatusBadRequest || strings.Contains(body, "TTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTT") || strings.Contains(body, "\x1b") {
			t.Errorf("va %.20q: %d, want 400 without the value echoed", f.Get("va"), status)
		}
	}
	if status, _, _ := b.post("/portal/token/create", url.Values{"va": {"Nowhere"}, "expires_days": {"30"}}); status != http.StatusBadRequest {
		t.Errorf("an unknown virtual account: %d, want 400", status)
	}
}

func TestRolesAreEnforced(t *testing.T) {
	s := newSite(t)
	s.seed()
	ins, _ := s.portal.Instances("TAC")
	ro := s.browser()
	ro.login("carol")
	_, _, page := ro.get("/portal/?va=TAC&tab=general")
	if strings.Contains(page, "Create Token") {
		t.Error("the read-only user is offered Create Token")
	}
	if status, _, _ := ro.post("/portal/token/create", url.Values{"va": {"TAC"}, "expires_days": {"30"}}); status != http.StatusForbidden {
		t.Errorf("read-only token create: %d, want 403", status)
	}
	user := s.browser()
	user.login("bob")
	if status, _, _ := user.post("/portal/instance/remove", url.Values{"va": {"TAC"}, "id": {ins[0].ID}}); status != http.StatusForbidden {
		t.Errorf("a user removing an instance: %d, want 403", status)
	}
	if after, _ := s.portal.Instances("TAC"); len(after) != len(ins) {
		t.Fatal("a refused removal removed an instance")
	}
}

func TestMarkupInNamesIsEscaped(t *testing.T) {
	s := newSite(t)
	const evil = `<script>alert(1)</script>`
	s.must(s.portal.CreateAccount(evil, evil+"VA"))
	s.must(s.portal.As("alice").AddLicense(evil+"VA", cssm.LicenseSpec{Tier: "Basic", Count: 1}))
	if _, err := s.portal.As("alice").CreateToken(evil+"VA", cssm.TokenOptions{ExpiresDays: 5, Description: evil}); err != nil {
		t.Fatal(err)
	}
	b := s.browser()
	b.login("alice")
	for _, tab := range tabs {
		_, _, page := b.get("/portal/?tab=" + tab + "&va=" + url.QueryEscape(evil+"VA"))
		if strings.Contains(page, "<script") {
			t.Errorf("tab %s has raw markup from a name", tab)
		}
		if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("tab %s does not show the name escaped", tab)
		}
	}
	_, _, page := b.get("/portal/?va=TAC&flash=" + url.QueryEscape(evil))
	if strings.Contains(page, "<script") {
		t.Error("a flash message from the URL was not escaped")
	}
}

func TestCSVExportQuotesFormulas(t *testing.T) {
	s := newSite(t)
	s.seed()
	tok, _ := s.portal.CreateToken("TAC", cssm.TokenOptions{ExpiresDays: 5})
	s.register(tok, 5, "=HYPERLINK(1)", map[string]int{"Basic": 1})
	b := s.browser()
	b.login("carol")
	status, h, body := b.get("/portal/instances.csv?va=TAC")
	if status != http.StatusOK || h.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("%d %s", status, h.Get("Content-Type"))
	}
	if !strings.HasPrefix(body, "Name,UDI,Virtual Account,Last Contact,Licenses In Use,Reserved\n") || !strings.Contains(body, "cucm-pub,") || !strings.Contains(body, "'=HYPERLINK(1)") {
		t.Fatalf("instances.csv:\n%s", body)
	}
	_, _, body = b.get("/portal/licenses.csv?va=TAC")
	golden.Check(t, "portal/licenses.csv", body)
}

// upload posts a multipart form with a file.
func (b *browser) upload(path string, fields map[string]string, file string, content []byte) (int, string) {
	b.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", b.csrf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile(file, "code.txt")
	fw.Write(content)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.s.srv.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	status, _, body := b.do(req)
	return status, body
}

var authCodeArea = regexp.MustCompile(`(?s)id="auth-code">([^<]+)</textarea>`)

func TestReserveWizardUploadConfirmAndReturn(t *testing.T) {
	s := newSite(t)
	s.must(s.portal.AddLicense("TAC", cssm.LicenseSpec{Tier: "Enhanced", Count: 3}))
	b := s.browser()
	b.login("alice")
	u, _ := reservation.ParseUDI(udi(7))
	req := reservation.RequestCode(u)
	qty := "qty_" + tierTag("Enhanced")

	// More than is available: refused, nothing reserved.
	status, body := b.upload("/portal/reserve", map[string]string{"va": "TAC", qty: "4"}, "request_file", []byte(req+"\n"))
	if status != http.StatusBadRequest {
		t.Fatalf("4 of 3: %d", status)
	}
	// A file over 1 MiB: refused.
	status, _ = b.upload("/portal/reserve", map[string]string{"va": "TAC", qty: "1"}, "request_file", bytes.Repeat([]byte("A"), MaxUpload+1))
	if status != http.StatusRequestEntityTooLarge && status != http.StatusBadRequest {
		t.Fatalf("an upload over 1 MiB: %d", status)
	}
	if rs, _ := s.portal.Reservations("TAC"); len(rs) != 0 {
		t.Fatalf("refused forms reserved %v", rs)
	}
	status, body = b.upload("/portal/reserve", map[string]string{"va": "TAC", qty: "2"}, "request_file", []byte(req+"\n"))
	m := authCodeArea.FindStringSubmatch(body)
	if status != http.StatusOK || m == nil {
		t.Fatalf("reserve: %d\n%s", status, body)
	}
	ac, err := reservation.ParseAuthCode(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatalf("the page's authorization code: %v", err)
	}
	// Download: the same form with "download" gives a file.
	status, body = b.upload("/portal/reserve", map[string]string{"va": "TAC", qty: "2", "update": "on", "download": "on"}, "request_file", []byte(req))
	if status != http.StatusOK || !strings.HasPrefix(body, "<specificPLR>") && !strings.Contains(body, "PLR") {
		t.Fatalf("download: %d %.80s", status, body)
	}
	ac, _ = reservation.ParseAuthCode(strings.TrimSpace(body))
	if status, _, _ := b.post("/portal/reserve/confirm", url.Values{"va": {"TAC"}, "product": {u.String()}, "confirmation": {reservation.ConfirmationCode(ac)}}); status != http.StatusSeeOther {
		t.Fatalf("confirm: %d", status)
	}
	rs, _ := s.portal.Reservations("TAC")
	if len(rs) != 1 || rs[0].Confirmation == "" {
		t.Fatalf("reservations %+v", rs)
	}
	// Removing needs a return code that verifies.
	for _, code := range []string{"", "Cxxxx-xxxxxx-xxxxxx-xxxxxx-xxx", "<b>"} {
		if status, _, _ := b.post("/portal/instance/remove", url.Values{"va": {"TAC"}, "id": {rs[0].InstanceID}, "return_code": {code}}); status != http.StatusBadRequest {
			t.Errorf("return code %q: %d, want 400", code, status)
		}
	}
	if status, _, body := b.post("/portal/instance/remove", url.Values{"va": {"TAC"}, "id": {rs[0].InstanceID}, "return_code": {reservation.ReturnCode(ac)}}); status != http.StatusSeeOther {
		t.Fatalf("remove with the return code: %d %s", status, body)
	}
	if rs, _ := s.portal.Reservations("TAC"); len(rs) != 0 {
		t.Fatalf("still reserved: %+v", rs)
	}
	_, _, page := b.get("/portal/?va=TAC&tab=alerts")
	if !strings.Contains(page, cssm.AlertReturned) {
		t.Fatal("no alert for the returned licences")
	}
}

func TestTransferMovesReservedLicences(t *testing.T) {
	s := newSite(t)
	_, _ = s.seed()
	s.must(s.portal.AddLicense("Lab", cssm.LicenseSpec{Tier: "Enhanced", Count: 1}))
	rs, _ := s.portal.Reservations("TAC")
	b := s.browser()
	b.login("alice")
	if status, _, body := b.post("/portal/instance/transfer", url.Values{"va": {"TAC"}, "id": {rs[0].InstanceID}, "to": {"Lab"}}); status != http.StatusSeeOther {
		t.Fatalf("transfer: %d %s", status, body)
	}
	lab, _ := s.portal.Usage("Lab")
	tac, _ := s.portal.Usage("TAC")
	for _, bl := range lab.Balances {
		if bl.Tier == "Enhanced" && bl.Reserved != 1 {
			t.Errorf("Lab reserves %d Enhanced, want 1", bl.Reserved)
		}
	}
	for _, bl := range tac.Balances {
		if bl.Tier == "Enhanced" && bl.Reserved != 0 {
			t.Errorf("TAC still reserves %d Enhanced", bl.Reserved)
		}
	}
	// Back to TAC works; to Lab again with nothing left there does not.
	s.must(s.portal.TransferInstance(rs[0].InstanceID, "TAC"))
	s.must(s.portal.As("alice").AddLicense("Lab", cssm.LicenseSpec{Tier: "Basic", Count: 1}))
	tok, _ := s.portal.CreateToken("Lab", cssm.TokenOptions{ExpiresDays: 5})
	s.register(tok, 9, "lab-pub", map[string]int{"Enhanced": 1})
	if _, err := s.portal.TransferInstance(rs[0].InstanceID, "Lab"); err == nil {
		t.Fatal("a transfer to an account with no Enhanced left was accepted")
	}
}

func TestEventLogNamesWhoAndFilters(t *testing.T) {
	s := newSite(t)
	s.seed()
	b := s.browser()
	b.login("carol")
	_, _, page := b.get("/portal/?va=TAC&tab=events&filter=bob")
	if !strings.Contains(page, "token created") || strings.Contains(page, "licenses added") {
		t.Fatalf("filter bob:\n%s", page)
	}
	_, _, page = b.get("/portal/?va=TAC&tab=events")
	for _, want := range []string{"product cucm-pub", "alice", cssm.CLIActor, "usage changed"} {
		if !strings.Contains(page, want) {
			t.Errorf("the event log lacks %q", want)
		}
	}
}

// mask hides what changes from run to run: CSRF tokens, registration tokens,
// codes and instance ids.
var masks = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`name="csrf" value="[^"]+"`), `name="csrf" value="CSRF"`},
	{regexp.MustCompile(`value="[A-Za-z0-9_-]{80}"`), `value="TOKEN"`},
	{regexp.MustCompile(`name="id" value="[^"]+"`), `name="id" value="ID"`},
	{regexp.MustCompile(`[A-Za-z0-9_-]{8,}…[A-Za-z0-9_-]*`), `TOKEN…`},
}

func mask(s string) string {
	for _, m := range masks {
		s = m.re.ReplaceAllString(s, m.with)
	}
	return s
}

func TestGoldenPages(t *testing.T) {
	s := newSite(t)
	s.seed()
	s.clock.Add(40 * 24 * 60 * 60 * 1e9) // 40 days: the products are overdue, the term licence ended
	b := s.browser()
	_, _, login := b.get("/portal/login")
	golden.Check(t, "portal/login.html", mask(login))
	b.login("alice")
	for _, tab := range tabs {
		_, _, page := b.get("/portal/?va=TAC&tab=" + tab)
		golden.Check(t, "portal/"+tab+".html", mask(page))
	}
}
