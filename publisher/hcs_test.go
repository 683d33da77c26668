package publisher

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/cssm"
	"github.com/ucmsh/ucmsh/cssmapi"
)

func TestLicensingModeFromTheProfile(t *testing.T) {
	for js, want := range map[string]string{
		`{"hostname":"a","version":"15"}`:                               cssmapi.ModeEnterprise,
		`{"hostname":"a","version":"15","licensing_mode":"hcs"}`:        cssmapi.ModeHCS,
		`{"hostname":"a","version":"15","licensing_mode":"HCS"}`:        cssmapi.ModeHCS,
		`{"hostname":"a","version":"15","licensing_mode":"Enterprise"}`: cssmapi.ModeEnterprise,
	} {
		p, err := ParseProfile([]byte(js))
		if err != nil || p.LicensingMode != want {
			t.Errorf("%s: %v %v, want %s", js, p, err, want)
		}
	}
	for js, want := range map[string]string{
		`{"hostname":"a","version":"15","licensing_mode":"cloud"}`:    `use "Enterprise" or "HCS"`,
		`{"hostname":"a","version":"15","usage":{"HCSFoundation":1}}`: "not a license type",
	} {
		if _, err := ParseProfile([]byte(js)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", js, err, want)
		}
	}
}

// In HCS mode the node asks for the HCS licences its usage maps to; cssm
// serves them from the account's HCS pool, and the node's report lists them.
func TestHCSModeNodeRequestsHCSLicences(t *testing.T) {
	l := newLicensing(t)
	if _, err := l.portal.AddLicense("VA", cssm.LicenseSpec{Tier: "HCSFoundation", Count: 8}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.portal.AddLicense("VA", cssm.LicenseSpec{Tier: "HCSStandard", Count: 1}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s := l.node(t.TempDir(), now)
	s.profile.LicensingMode = cssmapi.ModeHCS
	s.profile.Usage = map[string]int{"Enhanced": 5, "Basic": 3, "CUWL": 1}

	got := map[string]int{}
	for _, u := range s.usageReport() {
		e, _ := cssmapi.LookupTag(u.Tag)
		got[e.Tier] = u.Count
	}
	if len(got) != 2 || got["HCSFoundation"] != 8 || got["HCSStandard"] != 1 {
		t.Fatalf("HCS-mode usage report: %v", got)
	}

	if _, err := s.Register(context.Background(), l.token(1, false), false); err != nil {
		t.Fatal(err)
	}
	r := report(t, s)
	if r.Authorization.Status != AuthAuthorized {
		t.Fatalf("authorization: %+v", r.Authorization)
	}
	var rows []string
	for _, e := range r.Usage.Entitlements {
		rows = append(rows, e.DisplayName+"="+e.Status)
	}
	want := "HCS UCM Standard License (12.x)=InCompliance HCS UCM Foundation License (12.x)=InCompliance =Init" // an unused type has no grant to name it, as in Enterprise mode
	if strings.Join(rows, " ") != want {
		t.Fatalf("report rows:\n%s\nwant\n%s", strings.Join(rows, " "), want)
	}
	u, err := l.portal.Usage("VA")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range u.Balances {
		if b.HCS() && b.Status() != cssmapi.InCompliance || !b.HCS() && b.InUse != 0 {
			t.Errorf("cssm: %s in use %d %s", b.Tier, b.InUse, b.Status())
		}
	}
}
