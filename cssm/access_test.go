package cssm

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/ucmsh/ucmsh/internal/clock"
)

// bearerOf signs a user in with the password grant.
func (a *api) bearerOf(user, password string) string {
	a.t.Helper()
	q := url.Values{"grant_type": {"password"}, "username": {user}, "password": {password}}
	_, out := a.call("POST", "/oauth/token?"+q.Encode(), "", "", nil)
	tok, _ := out["access_token"].(string)
	if tok == "" {
		a.t.Fatalf("password grant for %s: %v", user, out)
	}
	return tok
}

func TestRESTCallsStayInTheUsersAccounts(t *testing.T) {
	a := newAPI(t)
	a.must(a.portal.CreateAccount("BU", "Lab"))
	a.must(a.portal.CreateAccount("Other", "Ops"))
	a.must(a.portal.AddUser("tacuser", "correct horse", RoleUser, "", "TAC"))
	a.must(a.portal.AddUser("otheradmin", "correct horse", RoleAdmin, "Other", ""))
	a.must(a.portal.AddUser("labviewer", "correct horse", RoleReadOnly, "", "Lab"))
	user, admin, viewer := a.bearerOf("tacuser", "correct horse"), a.bearerOf("otheradmin", "correct horse"), a.bearerOf("labviewer", "correct horse")
	other := "/api/v1/accounts/Other"
	for _, c := range []struct {
		who, bearer, method, path string
		want                      int
	}{
		{"user of TAC", user, "GET", onPrem + "/virtual-accounts/TAC/tokens", 200},
		{"user of TAC", user, "POST", onPrem + "/virtual-accounts/TAC/tokens", 200},
		{"user of TAC", user, "GET", onPrem + "/virtual-accounts/Lab/tokens", 403},
		{"user of TAC", user, "POST", onPrem + "/virtual-accounts/Lab/tokens", 403},
		{"user of TAC", user, "POST", onPrem + "/virtual-accounts/TAC/devices/remove", 403}, // admin only
		{"user of TAC", user, "GET", onPrem + "/devices", 403},                              // the whole smart account
		{"admin of Other", admin, "POST", other + "/virtual-accounts/Ops/tokens", 200},
		{"admin of Other", admin, "GET", onPrem + "/virtual-accounts/TAC/tokens", 403},
		{"admin of Other", admin, "POST", onPrem + "/virtual-accounts/TAC/tokens", 403},
		{"admin of Other", admin, "GET", onPrem + "/customer/virtual-accounts", 403},
		{"read-only of Lab", viewer, "GET", onPrem + "/virtual-accounts/Lab/tokens", 200},
		{"read-only of Lab", viewer, "POST", onPrem + "/virtual-accounts/Lab/tokens", 403},
		{"read-only of Lab", viewer, "GET", onPrem + "/virtual-accounts/TAC/tokens", 403},
		{"read-only of Lab", viewer, "GET", onPrem + "/virtual-accounts/Nope/tokens", 403}, // not told it is unknown
	} {
		var body any
		if c.method == "POST" {
			body = map[string]any{"description": "by " + c.who, "expiresAfterDays": 30}
		}
		if status, out := a.restJSON(c.method, c.path, c.bearer, body); status != c.want {
			t.Errorf("%s: %s %s: %d, want %d (%v)", c.who, c.method, c.path, status, c.want, out)
		}
	}
	for va, want := range map[string]int{"TAC": 1, "Lab": 0, "Ops": 1} {
		if toks, _ := a.portal.Tokens(va); len(toks) != want {
			t.Errorf("%s has %d tokens, want %d: a refused call made one", va, len(toks), want)
		}
	}
	if _, out := a.restJSON("GET", "/services/api/smart-accounts-and-licensing/v1/accounts/search?domain=BU", admin, nil); out["totalRecords"] != float64(0) {
		t.Errorf("an admin of Other finds BU: %v", out)
	}
	_, out := a.restJSON("GET", "/services/api/smart-accounts-and-licensing/v2/accounts", user, nil)
	if s := fmt.Sprint(out["accounts"]); strings.Contains(s, "Lab") || strings.Contains(s, "Other") || !strings.Contains(s, "SMART_ACCOUNT_USER") {
		t.Errorf("the account list of a user of TAC: %s", s)
	}
}

func TestAUsersGrantsAddUpAndUnknownAccountsAreRefused(t *testing.T) {
	l := newLab(t)
	l.must(l.portal.CreateAccount("BU", "Lab"))
	l.must(l.portal.AddUser("pat", "correct horse", RoleUser, "", "TAC"))
	msg, err := l.portal.AddUser("pat", "correct horse", RoleReadOnly, "", "Lab")
	if err != nil || msg != "User \"pat\" (read-only of virtual account Lab, user of virtual account TAC) saved.\n" {
		t.Fatalf("second grant: %q %v", msg, err)
	}
	for _, c := range [][3]string{{RoleAdmin, "Nope", ""}, {RoleUser, "", "Nope"}, {RoleAdmin, "", "TAC"}, {RoleUser, "BU", ""}, {RoleReadOnly, "BU", "TAC"}} {
		if _, err := l.portal.AddUser("pat", "correct horse", c[0], c[1], c[2]); err == nil {
			t.Errorf("AddUser %v: no error", c)
		}
	}
	if _, err := l.portal.AddUser("pat", "correct horse", RoleAdmin, "Nope", ""); err == nil || !strings.Contains(err.Error(), `there is no smart account "Nope"`) {
		t.Errorf("unknown smart account: %v", err)
	}
}

func TestAnOlderDatabasesUsersKeepTheirGlobalRole(t *testing.T) {
	dir := t.TempDir()
	s, err := openStore(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	p := &Portal{Store: s, Clock: clock.NewManual(t0)}
	if _, err := p.CreateAccount("BU", "TAC"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.AddUser("old", "correct horse", RoleUser, "", ""); err != nil {
		t.Fatal(err)
	}
	// Back to schema 4: a users table with one role each, no grants.
	s.Update(func(st *State) error {
		st.tx.exec(`DROP TABLE user_grants`)
		st.tx.exec(`UPDATE meta SET v = '4' WHERE k = 'schema_version'`)
		return nil
	})
	s.Close()
	if s, err = openStore(t, dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p.Store = s
	a, ok, err := p.CheckUser("old", "correct horse")
	if err != nil || !ok || a.String() != "user of every account" || !a.Allows("BU", "TAC", NeedUse) || a.Allows("BU", "TAC", NeedAdmin) {
		t.Fatalf("after the migration: %v %v %v", a, ok, err)
	}
}
