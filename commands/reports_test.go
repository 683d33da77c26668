package commands

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
	"github.com/ucmsh/ucmsh/golden"
	"github.com/ucmsh/ucmsh/internal/clock"
	"github.com/ucmsh/ucmsh/publisher"
)

// reports is every command under show license, by its golden file name.
var reports = func() map[string]string {
	m := map[string]string{}
	Tree.child("show").child("license").Walk(func(c *Command) {
		if c.Run != nil {
			m[goldenName(c)] = c.Path()
		}
	})
	return m
}()

// Every report in every state this release can reach.
func TestReportsInEveryState(t *testing.T) {
	type step struct {
		at    time.Duration
		usage map[string]int
	}
	states := []struct {
		name  string
		steps []step
	}{
		// A new node with no users or devices yet.
		{"fresh", []step{{0, nil}}},
		// Licenses in use for 2 days 22 hr 19 min: 87 days 1 hr 41 min left.
		{"eval_in_use", []step{{0, labUsage}, {70*time.Hour + 19*time.Minute, labUsage}}},
		// Users removed after 10 days: the counter pauses.
		{"eval_paused", []step{{0, labUsage}, {10 * 24 * time.Hour, nil}}},
		// 91 days of use: expired on day 90.
		{"eval_expired", []step{{0, labUsage}, {91 * 24 * time.Hour, labUsage}}},
	}
	for _, st := range states {
		t.Run(st.name, func(t *testing.T) {
			n := newNode(t)
			var r *Runner
			for _, s := range st.steps {
				r = n.at(t0.Add(s.at), s.usage)
				if err := r.Service.Init(); err != nil {
					t.Fatal(err)
				}
			}
			for file, cmd := range reports {
				out, res := run(r, cmd)
				if res != OK {
					t.Fatalf("%s failed:\n%s", cmd, out)
				}
				golden.Check(t, st.name+"/"+file, asUsersSeeIt(out))
			}
			r.JSON = true
			out, _ := run(r, "show license all")
			golden.Check(t, st.name+"/show_license_all.json", asUsersSeeIt(out))
			if strings.Contains(out, `_ns"`) {
				t.Error("a JSON duration is in nanoseconds")
			}
		})
	}
}

// On a subscriber the licensing service does not run: every licensing
// command prints nothing and changes nothing.
func TestSubscriberIsSilent(t *testing.T) {
	r := NewRunner(Subscriber, testProfile(t, labUsage), nil)
	r.Clock = clock.Fixed(t0)
	lines := []string{}
	for _, cmd := range []string{"show license all", "show license status", "show license summary",
		"show license usage", "show license UDI", "show license tech support", "show license trace",
		"license smart register idtoken abc", "license smart reservation enable", "license smart deregister",
		`license smart reservation install "<specificPLR>"`, "license smart export cancel"} {
		lines = append(lines, cmd)
		if out, res := run(r, cmd); out != "" || res != OK {
			t.Errorf("%s on a subscriber printed %q (%v)", cmd, out, res)
		}
	}
	lines = append(lines, "show myself", "show network cluster", "license smart bogus")
	golden.Check(t, "subscriber/transcript", transcript(r, lines...))
}

// The renderer reproduces REFERENCE §3's captures byte for byte.
func TestRenderMatchesCUCMCaptures(t *testing.T) {
	ist, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) *time.Time {
		tm, err := time.ParseInLocation("Jan 2 15:04:05 2006", s, ist)
		if err != nil {
			t.Fatal(err)
		}
		return &tm
	}
	ok := func(s string) *publisher.Attempt { return &publisher.Attempt{Succeeded: true, At: *at(s)} }
	m := &publisher.Report{
		SmartLicensing: "ENABLED",
		Registration: publisher.Registration{
			Status: "REGISTERED", SmartAccount: "BU Production Test", VirtualAccount: "TAC-CollabTesting",
			ExportControlled: "Allowed",
			// Registered, never renewed: all says the last renewal
			// SUCCEEDED at the registration, summary says None.
			InitialRegistration: ok("Jan 26 15:11:23 2018"),
			NextRenewal:         at("Jul 25 15:11:23 2018"), Expires: at("Jan 26 15:06:21 2019"),
		},
		Authorization: publisher.Authorization{
			Status: "AUTHORIZED", Since: at("Jan 26 15:12:59 2018"), LastCommunication: ok("Jan 26 15:12:59 2018"),
			NextCommunication: at("Feb 25 15:12:59 2018"), Deadline: at("Apr 26 15:06:59 2018"),
		},
		Evaluation: publisher.EvalStatus{ExpiredAt: at("Nov 9 23:46:35 2017")},
		Usage: publisher.Usage{AuthorizationStatus: "AUTHORIZED", AsOf: at("Jan 26 15:12:59 2018"),
			Entitlements: []publisher.EntitlementUsage{
				{Tag: cssmapi.Entitlements[0].Tag, Count: 0, Version: "12.0", Status: "Init"},
				{Tag: cssmapi.Entitlements[2].Tag, DisplayName: "UC Manager Enhanced License (12.x)",
					Description: "UC Manager Enhanced License", Count: 5, Version: "12.0", Status: "InCompliance"},
			}},
		UDI:          "PID:UCM,SN:37624,UUID:6fe83addc80240bc92dc071ac7a37624",
		AgentVersion: "1.3.4",
		Location:     ist,
	}
	want, err := os.ReadFile("testdata/capture_all.txt")
	if err != nil {
		t.Fatal(err)
	}
	if got := RenderAll(m); got != string(want) {
		t.Errorf("show license all differs from the capture:\n%s", got)
	}
	// The summary capture lists all six: the License column holds the
	// UUID of the entitlements in use and nothing for Init ones.
	ent := func(i, n int, status string) publisher.EntitlementUsage {
		return publisher.EntitlementUsage{Tag: cssmapi.Entitlements[i].Tag, DisplayName: cssmapi.Entitlements[i].DisplayName, Count: n, Version: "12.0", Status: status}
	}
	m.Usage.Entitlements = []publisher.EntitlementUsage{ent(0, 0, "Init"), ent(1, 0, "Init"), ent(2, 5, "InCompliance"),
		ent(3, 2, "InCompliance"), ent(4, 0, "Init"), ent(5, 0, "Init")}
	want, err = os.ReadFile("testdata/capture_summary.txt")
	if err != nil {
		t.Fatal(err)
	}
	if got := RenderSummary(m); got != string(want) {
		t.Errorf("show license summary differs from the capture:\n%s", got)
	}
}
