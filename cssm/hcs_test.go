package cssm

import (
	"strings"
	"testing"

	"github.com/ucmsh/ucmsh/cssmapi"
)

// An Enterprise-mode node whose Enterprise licences run out is served by the
// account's HCS licences; the node sees itself in compliance, and the usage
// report and the REST listing say which licences serve which request.
func TestDualParentingInUsageReportAndRESTListing(t *testing.T) {
	a := newAPI(t)
	a.addLicense("Enhanced", 2)
	a.addLicense("HCSFoundation", 5)
	a.addLicense("HCS Standard", 1)
	id, cred := a.register(a.token(TokenOptions{}), 1)
	var auth cssmapi.AuthorizeResponse
	a.authorize(id, cred, &auth, cssmapi.Usage{Tag: tag("Enhanced"), Count: 4}, cssmapi.Usage{Tag: tag("CUWL"), Count: 1})
	if auth.Status != cssmapi.StatusAuthorized {
		t.Fatalf("authorize: %+v", auth)
	}
	for _, e := range auth.Entitlements {
		if e.Status != cssmapi.InCompliance {
			t.Errorf("%s: %s", e.DisplayName, e.Status)
		}
	}

	out := a.usage("TAC")
	want := `Smart Account: BU
Virtual Account: TAC
Product Instances: 1
+---------------------------------------------+-----------+----------+--------+--------------+---------+--------------+
| License                                     | Purchased | Reserved | In Use | Substitution | Balance | Status       |
+---------------------------------------------+-----------+----------+--------+--------------+---------+--------------+
| UC Manager CUWL License (12.X)              |         0 |        0 |      1 |           +1 |       0 | InCompliance |
| UC Manager Enhanced Plus License (12.x)     |         0 |        0 |      0 |            - |       0 | InCompliance |
| UC Manager Enhanced License (12.x)          |         2 |        0 |      4 |           +2 |       0 | InCompliance |
| UC Manager Basic License  (12.x)            |         0 |        0 |      0 |            - |       0 | InCompliance |
| UC Manager Essential License (12.x)         |         0 |        0 |      0 |            - |       0 | InCompliance |
| UC Manager TelePresence Room License (12.x) |         0 |        0 |      0 |            - |       0 | InCompliance |
| HCS UCM Standard License (12.x)             |         1 |        0 |      0 |           -1 |       0 | InCompliance |
| HCS UCM Foundation License (12.x)           |         5 |        0 |      0 |           -2 |       3 | InCompliance |
+---------------------------------------------+-----------+----------+--------+--------------+---------+--------------+
Licenses serving each request (dual parenting):
  UC Manager CUWL License (12.X): 1 HCS UCM Standard License (12.x)
  UC Manager Enhanced License (12.x): 2 UC Manager Enhanced License (12.x), 2 HCS UCM Foundation License (12.x)
Export Authorization Keys: 0 in use of 0
`
	if out != want {
		t.Fatalf("usage report:\n%s\nwant:\n%s", out, want)
	}

	status, list := a.restJSON("POST", cloud+"/licenses", a.accessToken(), map[string]any{"virtualAccounts": []string{"TAC"}, "limit": 50, "offset": 0})
	if status != 200 {
		t.Fatalf("licenses: %d %v", status, list)
	}
	subst := map[string]string{}
	for _, rec := range list["licenses"].([]any) {
		rec := rec.(map[string]any)
		for _, s := range rec["licenseSubstitutions"].([]any) {
			s := s.(map[string]any)
			subst[rec["license"].(string)] += s["substitutionType"].(string) + ":" + s["substitutedLicense"].(string) + " "
		}
	}
	for lic, want := range map[string]string{
		"UC Manager CUWL License (12.X)":     "DUAL_PARENTING:HCS UCM Standard License (12.x)",
		"UC Manager Enhanced License (12.x)": "DUAL_PARENTING:HCS UCM Foundation License (12.x)",
	} {
		if got := strings.TrimSpace(subst[lic]); got != want {
			t.Errorf("%s substitutions: %q, want %q", lic, got, want)
		}
	}
}

// An account without HCS licences shows no HCS rows and no dual parenting.
func TestUsageReportWithoutHCSShowsNoHCSRows(t *testing.T) {
	a := newAPI(t)
	a.addLicense("Enhanced", 2)
	out := a.usage("TAC")
	if strings.Contains(out, "HCS") || strings.Contains(out, "dual parenting") {
		t.Fatalf("usage report:\n%s", out)
	}
}
