package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// After the login, the portal goes only to one of its own pages, whatever
// the next parameter holds.
func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/portal/", "/portal/?va=TAC&tab=alerts", "//evil.example", "/\\evil", "https://evil.example/portal/", "/portal/%2f%2fevil", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := localPath(next)
		if !strings.HasPrefix(got, Prefix) || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\r\n\t") {
			t.Fatalf("localPath(%q) = %q", next, got)
		}
		u, err := url.Parse(got)
		if err != nil || u.Host != "" || u.Scheme != "" {
			t.Fatalf("localPath(%q) = %q leaves the portal", next, got)
		}
		// What a browser does with the Location header: resolve it against the portal.
		base, _ := url.Parse("http://127.0.0.1:8443/portal/login")
		if r := base.ResolveReference(u); r.Host != "127.0.0.1:8443" {
			t.Fatalf("localPath(%q) = %q resolves to host %q", next, got, r.Host)
		}
	})
}

// A token form with any fields is either refused or gives options that
// CreateToken accepts as they are.
func FuzzTokenForm(f *testing.F) {
	f.Add("lab", "30", "10")
	f.Add("<script>", "365", "")
	f.Add("\x00", "0", "-1")
	f.Add(strings.Repeat("é", 60), "1", "1000000")
	f.Fuzz(func(t *testing.T, desc, days, uses string) {
		opt, err := tokenOptions(url.Values{"description": {desc}, "expires_days": {days}, "max_uses": {uses}})
		if err != nil {
			return
		}
		if opt.ExpiresDays < 1 || opt.ExpiresDays > 365 || opt.MaxUses < 0 || len(opt.Description) > maxField {
			t.Fatalf("accepted %+v", opt)
		}
	})
}

// The portal answers any request without a session with a redirect to the
// login page or a refusal, never a page or a panic.
func FuzzUnauthenticatedRequest(f *testing.F) {
	f.Add("GET", "/portal/?va=TAC", "")
	f.Add("POST", "/portal/token/create", "csrf=x&va=TAC&expires_days=30")
	f.Add("POST", "/portal/login", "user=alice&password=x&next=//evil")
	f.Add("GET", "/portal/static/../web.go", "")
	s := newSite(f)
	f.Fuzz(func(t *testing.T, method, path, body string) {
		if !strings.HasPrefix(path, Prefix) || strings.ContainsAny(method, " \r\n\t") || method == "" {
			return
		}
		req, err := http.NewRequest(method, "http://127.0.0.1"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		s.web.ServeHTTP(rec, req)
		loginPage := strings.HasPrefix(req.URL.Path, Prefix+"login") || strings.HasPrefix(req.URL.Path, Prefix+"static/")
		if rec.Code == http.StatusOK && !loginPage {
			t.Fatalf("%s %s without a session: 200", method, path)
		}
		if loc := rec.Header().Get("Location"); loc != "" && !strings.HasPrefix(loc, Prefix) {
			t.Fatalf("%s %s: redirect to %q", method, path, loc)
		}
	})
}
