package cssm

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
)

func TestPortalRefusals(t *testing.T) {
	l := newLab(t)
	p := l.portal
	for _, tt := range []struct {
		name string
		do   func() (string, error)
		want string
	}{
		{"duplicate virtual account", func() (string, error) { return p.CreateAccount("Other", "TAC") }, `virtual account "TAC" already exists in smart account "BU"`},
		{"empty name", func() (string, error) { return p.CreateAccount("", "X") }, `smart account name "" is not valid`},
		{"unknown virtual account", func() (string, error) { return p.AddExportKeys("Nope", 1) }, `there is no virtual account "Nope"; create it with: cssm account create`},
		{"unknown tier", func() (string, error) { return p.AddLicense("TAC", LicenseSpec{Tier: "Gold", Count: 1}) }, `"Gold" is not a license tier; use one of CUWL, EnhancedPlus`},
		{"unknown tag", func() (string, error) { return p.AddLicense("TAC", LicenseSpec{Tag: "regid.x", Count: 1}) }, `"regid.x" is not a UCM entitlement tag`},
		{"zero count", func() (string, error) { return p.AddLicense("TAC", LicenseSpec{Tier: "Basic"}) }, `--count must be a positive number, not 0`},
		{"term ended", func() (string, error) {
			return p.AddLicense("TAC", LicenseSpec{Tier: "Basic", Count: 1, TermEnd: "2026-01-14"})
		}, `--term-end "2026-01-14" must be a date (YYYY-MM-DD) not before today, 2026-01-15`},
		{"token for a year and a day", func() (string, error) { return p.CreateToken("TAC", TokenOptions{ExpiresDays: 366}) }, `--expires-days must be between 1 and 365, not 366`},
		{"remove unknown instance", func() (string, error) { return p.RemoveInstance("nope", RemoveOptions{}) }, `there is no product instance "nope"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.do(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestTokensLookLikeCSSMTokens(t *testing.T) {
	l := newLab(t)
	tok := l.token(TokenOptions{})
	if !regexp.MustCompile(`^[A-Za-z0-9_-]{80}$`).MatchString(tok) {
		t.Fatalf("token %q", tok)
	}
	if tok == l.token(TokenOptions{}) {
		t.Fatal("two tokens are equal")
	}
}

// A token, credential or secret is pasted into command lines
// (`cssm token revoke TOKEN`), so none starts with '-', which would read as
// an option. Without the rule about 1 in 64 would.
func TestRandomTextsNeverLookLikeOptions(t *testing.T) {
	for range 2000 {
		if s := randomText(60); s[0] == '-' || len(s) != 80 {
			t.Fatalf("%q", s)
		}
	}
}

func TestLicenseAddAcceptsTierSpellings(t *testing.T) {
	l := newLab(t)
	for _, tier := range []string{"EnhancedPlus", "enhanced plus", "Enhanced-Plus"} {
		out, err := l.portal.AddLicense("TAC", LicenseSpec{Tier: tier, Count: 1})
		if err != nil || !strings.Contains(out, "UC Manager Enhanced Plus License (12.x) (perpetual)") {
			t.Fatalf("%q: %q %v", tier, out, err)
		}
	}
	out, err := l.portal.AddLicense("TAC", LicenseSpec{Tag: tag("CUWL"), Count: 2, TermEnd: "2026-12-31"})
	if want := "Added 2 UC Manager CUWL License (12.X) (term, ending 2026-12-31) to virtual account \"TAC\".\n"; out != want || err != nil {
		t.Fatalf("got %q %v, want %q", out, err, want)
	}
}

func TestUsageReport(t *testing.T) {
	a := newAPI(t)
	a.addLicense("CUWL", 2)
	a.addLicense("Enhanced", 5)
	a.must(a.portal.AddExportKeys("TAC", 2))
	tok := a.token(TokenOptions{})
	id, cred := a.register(tok, 1)
	a.post("/v1/authorize", cred, map[string]any{"instance_id": id, "usage": []map[string]any{
		{"tag": tag("Enhanced"), "count": 6}, {"tag": tag("Basic"), "count": 2},
	}})

	out := a.usage("TAC")
	want := `Smart Account: BU
Virtual Account: TAC
Product Instances: 1
+---------------------------------------------+-----------+----------+--------+--------------+---------+-----------------+
| License                                     | Purchased | Reserved | In Use | Substitution | Balance | Status          |
+---------------------------------------------+-----------+----------+--------+--------------+---------+-----------------+
| UC Manager CUWL License (12.X)              |         2 |        0 |      0 |           -2 |       0 | InCompliance    |
| UC Manager Enhanced Plus License (12.x)     |         0 |        0 |      0 |            - |       0 | InCompliance    |
| UC Manager Enhanced License (12.x)          |         5 |        0 |      6 |           +1 |       0 | InCompliance    |
| UC Manager Basic License  (12.x)            |         0 |        0 |      2 |           +1 |      -1 | OutOfCompliance |
| UC Manager Essential License (12.x)         |         0 |        0 |      0 |            - |       0 | InCompliance    |
| UC Manager TelePresence Room License (12.x) |         0 |        0 |      0 |            - |       0 | InCompliance    |
+---------------------------------------------+-----------+----------+--------+--------------+---------+-----------------+
Export Authorization Keys: 0 in use of 2
`
	if out != want {
		t.Fatalf("usage report:\n%s\nwant:\n%s", out, want)
	}
}

func TestInstanceList(t *testing.T) {
	a := newAPI(t)
	tok := a.token(TokenOptions{AllowExport: true})
	id, cred := a.register(tok, 1)
	a.clock.Add(time.Hour)
	a.post("/v1/renew-id", cred, map[string]string{"instance_id": id})

	var out bytes.Buffer
	list, err := a.portal.Instances("TAC")
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteInstances(&out, list); err != nil {
		t.Fatal(err)
	}
	want := `+--------------------------------------+------------+--------------------------------------------------------+-----------------+---------+-------------+----------------------+----------------------+
| Instance ID                          | Host Name  | UDI                                                    | Virtual Account | Export  | Reservation | Registered           | Last Seen            |
+--------------------------------------+------------+--------------------------------------------------------+-----------------+---------+-------------+----------------------+----------------------+
| ` + id + ` | cucm-00001 | PID:UCM,SN:00001,UUID:6fe83addc80240bc92dc071ac7a00001 | TAC             | Allowed | -           | 2026-01-15 10:00 UTC | 2026-01-15 11:00 UTC |
+--------------------------------------+------------+--------------------------------------------------------+-----------------+---------+-------------+----------------------+----------------------+
`
	if out.String() != want {
		t.Fatalf("instance list:\n%s\nwant:\n%s", out.String(), want)
	}

	out.Reset()
	WriteInstances(&out, nil)
	if out.String() != "No product instances.\n" {
		t.Fatalf("empty list: %q", out.String())
	}
}

// Pages of instances, one after the other, list each instance once, in order.
func TestInstancePagesListEachInstanceOnce(t *testing.T) {
	l := newLab(t)
	l.must(l.portal.CreateAccount("BU", "Lab"))
	tok := l.token(TokenOptions{})
	if err := Grow(l.store, t0, tok, 0, 25, udi, func(int) []cssmapi.Usage { return nil }); err != nil {
		t.Fatal(err)
	}
	all, err := l.portal.Instances("")
	if err != nil || len(all) != 25 {
		t.Fatalf("%d instances, %v", len(all), err)
	}
	var paged []Instance
	var cur InstanceCursor
	for pages := 0; ; pages++ {
		page, next, err := l.portal.InstancePage("TAC", cur, 7)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, page...)
		if next == (InstanceCursor{}) {
			break
		}
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		if after, err := l.portal.CursorAfter(next.ID); err != nil || after != next {
			t.Fatalf("cursor after %s: %v %v", next.ID, after, err)
		}
		cur = next
	}
	if len(paged) != 25 {
		t.Fatalf("%d instances over the pages, want 25", len(paged))
	}
	for i := range paged {
		if paged[i].ID != all[i].ID {
			t.Fatalf("page order differs at %d", i)
		}
	}
	if page, _, _ := l.portal.InstancePage("Lab", InstanceCursor{}, 7); len(page) != 0 {
		t.Fatalf("virtual account Lab lists %d instances", len(page))
	}
}
