package commands

import (
	"strings"
	"testing"

	"github.com/ucmsh/ucmsh/internal/clock"
	"github.com/ucmsh/ucmsh/publisher"
)

// versionNode is a publisher of the given version at t0.
func versionNode(t *testing.T, version string) *Runner {
	t.Helper()
	p, err := publisher.ParseProfile([]byte(`{"hostname":"cucm-pub","version":"` + version + `","usage":{"Basic":2}}`))
	if err != nil {
		t.Fatal(err)
	}
	store, err := publisher.OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	svc := publisher.NewService(store, clock.Fixed(t0), p)
	svc.DirectURL = testDirectURL
	r := NewRunner(Publisher, p, svc)
	r.Clock = clock.Fixed(t0)
	return r
}

// 12.5 lacks transport ssm-satellite, factory reset and export: they get
// the same answer as any unknown command, and listings leave them out.
func TestVersion125Tree(t *testing.T) {
	r := versionNode(t, "12.5")
	for _, line := range []string{
		"license smart transport ssm-satellite https://sat.example.com/x",
		"license smart factory reset",
		"license smart export request local CUCM_Export_Restricted_Authorization_Key",
		"license smart export cancel",
	} {
		words := strings.Fields(line)
		// The first word the version lacks, and what comes before it.
		var at int
		for at = 2; at < len(words); at++ {
			if words[at] == "ssm-satellite" || words[at] == "factory" || words[at] == "export" {
				break
			}
		}
		bogus := strings.Join(append(append([]string{}, words[:at]...), "bogusword"), " ")
		got, res := run(r, line)
		want, _ := run(r, bogus)
		if res != Failed || got != want {
			t.Errorf("%s on 12.5:\n%s\nwant the unknown-command answer:\n%s", line, got, want)
		}
		if !strings.Contains(got, msgNoCommand) {
			t.Errorf("%s on 12.5: %q", line, got)
		}
	}
	_, cands := r.Complete("license smart ")
	if labels := candLabels(cands); labels != "register* deregister renew* transport* reservation*" {
		t.Errorf("Tab after license smart on 12.5: %s", labels)
	}
	_, cands = r.Complete("license smart transport ")
	if labels := candLabels(cands); labels != "direct proxy gateway" {
		t.Errorf("Tab after license smart transport on 12.5: %s", labels)
	}
	if out, _ := run(r, "license smart ?"); strings.Contains(out, "factory") || strings.Contains(out, "export") {
		t.Errorf("? lists commands 12.5 lacks:\n%s", out)
	}
	if out, _ := run(r, "show version active"); !strings.HasPrefix(out, "Active Master Version: 12.5.1.16900-48\n") {
		t.Errorf("show version active on 12.5:\n%s", out)
	}
	// 14 has them all.
	r14 := versionNode(t, "14")
	_, cands = r14.Complete("license smart ")
	if labels := candLabels(cands); labels != "register* deregister renew* transport* factory* reservation* export*" {
		t.Errorf("Tab after license smart on 14: %s", labels)
	}
	if r14.root != Tree {
		t.Error("a 14 node does not use the whole tree")
	}
}

func candLabels(cands []Candidate) string {
	var l []string
	for _, c := range cands {
		l = append(l, c.Label)
	}
	return strings.Join(l, " ")
}

// license smart transport gateway: before 14SU4/15SU2 a gateway or a
// satellite from any mode; from then on refused in Smart Transport mode,
// accepted to re-point a satellite or gateway.
func TestTransportGatewayByVersion(t *testing.T) {
	const gw = "license smart transport gateway https://tg.example.com:443/Transportgateway/services/DeviceRequestHandler"
	for _, version := range []string{"12.5", "14.0.1.13900-155", "15.0.1.11900-23"} {
		r := versionNode(t, version)
		if out, res := run(r, gw); res != OK || out != msgTransportUpdated+"\n" {
			t.Fatalf("%s: %v %q", version, res, out)
		}
		if out, _ := run(r, "show license status"); !strings.Contains(out, "  Type: Transport Gateway\n  URL: https://tg.example.com:443/Transportgateway/services/DeviceRequestHandler\n") {
			t.Fatalf("%s: the transport is not the gateway:\n%s", version, out)
		}
	}
	for _, version := range []string{"14.0.1.14900-11", "15.0.1.12900-234"} {
		r := versionNode(t, version)
		before, _ := run(r, "show license status")
		out, res := run(r, gw)
		if res != Failed || !strings.Contains(out, "cannot be used in Smart Transport mode") || !strings.HasSuffix(out, msgFailed+"\n") {
			t.Fatalf("%s in direct mode: %v %q", version, res, out)
		}
		if after, _ := run(r, "show license status"); after != before {
			t.Fatalf("%s: a refused gateway changed the state", version)
		}
		run(r, "license smart transport proxy proxy.example.com 3128", "n")
		if _, res := run(r, gw); res != Failed {
			t.Fatalf("%s in proxy mode: accepted", version)
		}
		run(r, "license smart transport ssm-satellite https://sat.example.com:8443/x")
		if out, res := run(r, gw); res != OK {
			t.Fatalf("%s from a satellite: %q", version, out)
		}
	}
	if out, res := run(versionNode(t, "14"), "license smart transport gateway ftp://x"); res != Failed || !strings.Contains(out, "is not a Transport Gateway URL") {
		t.Fatalf("a bad URL: %q", out)
	}
}

// The release arithmetic behind the gateway rule.
func TestReleaseServiceUpdates(t *testing.T) {
	for v, want := range map[string]int{"14.0.1.10000-20": 0, "14.0.1.11900-132": 1, "14.0.1.13900-155": 3, "14.0.1.14900-11": 4, "15.0.1.12900-234": 2} {
		r, ok := publisher.ParseRelease(v)
		if !ok || r.SU() != want {
			t.Errorf("%s: SU %d, want %d", v, r.SU(), want)
		}
	}
}
