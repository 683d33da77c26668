package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ucmsh/ucmsh/cssm"
)

// scoped adds a second virtual account (BU/Lab), a second smart account
// (Other/Ops) and users whose roles cover one account each.
func scoped(t *testing.T) (*site, []cssm.Instance) {
	s := newSite(t)
	s.seed()
	s.must(s.portal.CreateAccount("Other", "Ops"))
	s.must(s.portal.AddUser("tacuser", password, cssm.RoleUser, "", "TAC"))
	s.must(s.portal.AddUser("otheradmin", password, cssm.RoleAdmin, "Other", ""))
	s.must(s.portal.AddUser("labviewer", password, cssm.RoleReadOnly, "", "Lab"))
	ins, _ := s.portal.Instances("TAC")
	if len(ins) == 0 {
		t.Fatal("the seed has no instance")
	}
	return s, ins
}

func TestAUserOfOneVirtualAccountCannotSeeOrChangeAnother(t *testing.T) {
	s, ins := scoped(t)
	b := s.browser()
	b.login("tacuser")
	_, _, page := b.get("/portal/?va=TAC&tab=general")
	if !strings.Contains(page, "Create Token") || strings.Contains(page, ">Lab<") || strings.Contains(page, "Ops") {
		t.Errorf("the picker of a user of TAC shows another account, or no Create Token:\n%s", page)
	}
	for _, path := range []string{"/portal/?va=Lab", "/portal/?va=Lab&tab=events", "/portal/licenses.csv?va=Lab", "/portal/instances.csv?va=Ops"} {
		if status, _, _ := b.get(path); status != http.StatusForbidden {
			t.Errorf("GET %s: %d, want 403", path, status)
		}
	}
	before, _ := s.portal.Tokens("Lab")
	if status, _, _ := b.post("/portal/token/create", url.Values{"va": {"Lab"}, "expires_days": {"30"}}); status != http.StatusForbidden {
		t.Errorf("forged token create in Lab: %d, want 403", status)
	}
	if after, _ := s.portal.Tokens("Lab"); len(after) != len(before) {
		t.Error("a refused token create made a token")
	}
	// A user is not an admin: no remove, no transfer, even in its own account.
	if status, _, _ := b.post("/portal/instance/transfer", url.Values{"va": {"TAC"}, "id": {ins[0].ID}, "to": {"Lab"}}); status != http.StatusForbidden {
		t.Errorf("transfer by a user: %d, want 403", status)
	}
	if status, _, _ := b.post("/portal/token/create", url.Values{"va": {"TAC"}, "expires_days": {"30"}}); status != http.StatusOK {
		t.Errorf("token create in its own account: %d, want 200", status)
	}
}

func TestAnAdminOfOneSmartAccountCannotTouchAnother(t *testing.T) {
	s, ins := scoped(t)
	b := s.browser()
	b.login("otheradmin")
	b.get("/portal/?va=Ops")
	_, _, page := b.get("/portal/")
	if strings.Contains(page, "TAC") {
		t.Errorf("an admin of Other sees BU's accounts:\n%s", page)
	}
	for _, f := range []struct {
		path string
		form url.Values
	}{
		{"/portal/instance/remove", url.Values{"va": {"Ops"}, "id": {ins[0].ID}}}, // Ops in the form, the instance in TAC
		{"/portal/instance/transfer", url.Values{"va": {"TAC"}, "id": {ins[0].ID}, "to": {"Lab"}}},
		{"/portal/token/revoke", url.Values{"va": {"TAC"}, "token": {"x"}}},
	} {
		if status, _, _ := b.post(f.path, f.form); status != http.StatusForbidden {
			t.Errorf("POST %s %v: %d, want 403", f.path, f.form, status)
		}
	}
	if after, _ := s.portal.Instances("TAC"); len(after) != len(ins) {
		t.Fatal("a refused action moved or removed an instance")
	}
	if status, _, _ := b.post("/portal/token/create", url.Values{"va": {"Ops"}, "expires_days": {"30"}}); status != http.StatusOK {
		t.Errorf("token create in its own smart account: %d, want 200", status)
	}
}

func TestReadOnlyOfOneAccountSeesItAndChangesNothing(t *testing.T) {
	s, _ := scoped(t)
	b := s.browser()
	b.login("labviewer")
	if status, _, page := b.get("/portal/?va=Lab"); status != http.StatusOK || strings.Contains(page, "Create Token") {
		t.Errorf("read-only of Lab: %d, or offered Create Token", status)
	}
	if status, _, _ := b.get("/portal/?va=TAC"); status != http.StatusForbidden {
		t.Errorf("read-only of Lab reading TAC: %d, want 403", status)
	}
	if status, _, _ := b.post("/portal/token/create", url.Values{"va": {"Lab"}, "expires_days": {"30"}}); status != http.StatusForbidden {
		t.Errorf("read-only token create: %d, want 403", status)
	}
	if toks, _ := s.portal.Tokens("Lab"); len(toks) != 0 {
		t.Error("a read-only user made a token")
	}
}
