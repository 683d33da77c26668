package commands

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/golden"
	"github.com/ucmsh/ucmsh/internal/clock"
	"github.com/ucmsh/ucmsh/publisher"
	"github.com/ucmsh/ucmsh/shell"
)

// platformCommands are the platform commands of issue 14 in a health
// collector's order; each has a golden file per state, named by its words.
var platformCommands = []string{
	"show status",
	"show version active",
	"show version inactive",
	"show hardware",
	"show network eth0",
	"show network eth0 detail",
	"utils ntp status",
	"utils dbreplication runtimestate",
	"show timezone config",
	"utils service list",
	"show network cluster",
}

// testClock is a node clock for tests: its Sleep records the pause and,
// when block is set, waits for the command to be interrupted.
type testClock struct {
	now   time.Time
	block bool

	mu     sync.Mutex
	slept  []time.Duration
	asleep chan struct{}
}

func (c *testClock) Now() time.Time { return c.now }

func (c *testClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.slept = append(c.slept, d)
	c.mu.Unlock()
	if !c.block {
		return ctx.Err()
	}
	close(c.asleep)
	<-ctx.Done()
	return ctx.Err()
}

// platformNodes are the two states of the goldens: the built-in lab
// publisher (14SU3, India) in winter, and a subscriber of a three-node
// 15SU2 cluster in Israel in summer, upgraded from 14 (an inactive
// version), with its own COP files, services and boot time.
func platformNodes(t *testing.T) map[string]*Runner {
	t.Helper()
	pub := NewRunner(Publisher, testProfile(t, labUsage), nil)
	pub.Clock = &testClock{now: t0}
	sp, err := publisher.LoadProfile("testdata/platform/subscriber_profile.json")
	if err != nil {
		t.Fatal(err)
	}
	sub := NewRunner(Subscriber, sp, nil)
	sub.Clock = &testClock{now: time.Date(2026, 7, 14, 6, 5, 9, 0, time.UTC)}
	return map[string]*Runner{"publisher": pub, "subscriber": sub}
}

// lineName names a command line's golden file: its words joined by "_"
// (arguments included, as in show_network_eth0_detail).
func lineName(line string) string { return strings.ReplaceAll(line, " ", "_") }

// Every platform command in both states, as text and as JSON.
func TestPlatformCommandsGolden(t *testing.T) {
	for state, r := range platformNodes(t) {
		t.Run(state, func(t *testing.T) {
			for _, cmd := range platformCommands {
				r.JSON = false
				out, res := run(r, cmd)
				if res != OK {
					t.Fatalf("%s failed:\n%s", cmd, out)
				}
				golden.Check(t, "platform_"+state+"/"+lineName(cmd), out)
				r.JSON = true
				out, res = run(r, cmd)
				if res != OK {
					t.Fatalf("%s --json failed:\n%s", cmd, out)
				}
				golden.Check(t, "platform_"+state+"/"+lineName(cmd)+".json", out)
			}
		})
	}
}

// The values that vary per node come from the profile and the clock: an
// hour later the date, uptime and clock lines move, the versions do not.
func TestPlatformFollowsTheNodeClock(t *testing.T) {
	r := NewRunner(Publisher, testProfile(t, nil), nil)
	clk := &testClock{now: t0}
	r.Clock = clk
	before, _ := run(r, "show status")
	clk.now = t0.Add(time.Hour + 30*time.Second)
	after, _ := run(r, "show status")
	if !strings.Contains(before, "Date               : Mon Jan 26, 2026 15:11:23\n") ||
		!strings.Contains(after, "Date               : Mon Jan 26, 2026 16:11:53\n") {
		t.Fatalf("the date is not the node's, in its zone:\n%s\n%s", before, after)
	}
	up := func(s string) string { return strings.Split(strings.SplitAfter(s, "Uptime:\n")[1], ",  1 user")[0] }
	if up(before) != " 15:11:24 up 21 days,  7:38" || up(after) != " 16:11:54 up 21 days,  8:39" {
		t.Fatalf("uptime does not follow the clock: %q then %q", up(before), up(after))
	}
	ntp, _ := run(r, "utils ntp status")
	if !strings.Contains(ntp, "Current time in UTC is : Mon Jan 26 10:41:53 UTC 2026\nCurrent time in Asia/Kolkata is : Mon Jan 26 16:11:53 IST 2026\n") {
		t.Fatalf("ntp times:\n%s", ntp)
	}
	if !strings.Contains(after, "Product Ver        : 14.0.1.13900-155\n") {
		t.Fatalf("product version:\n%s", after)
	}
}

// utils service list prints its first line at once and the list after
// Service Manager's pause, taken on the node's clock (so tests and
// simulated nodes do not wait); Control-C during the pause ends it with
// nothing more printed.
func TestServiceListPauseAndControlC(t *testing.T) {
	r := NewRunner(Publisher, testProfile(t, nil), nil)
	clk := &testClock{now: t0}
	r.Clock = clk
	out, res := run(r, "utils service list")
	if res != OK || !strings.HasPrefix(out, MsgServiceListWait+"\nSystem SSH [STARTED]\n") {
		t.Fatalf("%v:\n%s", res, out)
	}
	if len(clk.slept) != 1 || clk.slept[0] != ServiceListPause {
		t.Fatalf("paused %v, want once %v", clk.slept, ServiceListPause)
	}

	clk = &testClock{now: t0, block: true, asleep: make(chan struct{})}
	r.Clock = clk
	term := &flushTerm{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Outcome)
	go func() { done <- r.Execute(ctx, term, "utils service list") }()
	<-clk.asleep
	if got := term.flushed(); got != MsgServiceListWait+"\n" {
		t.Fatalf("before the pause the terminal had been given %q", got)
	}
	cancel() // Control-C
	select {
	case res := <-done:
		if res != Failed {
			t.Fatalf("interrupted: %v", res)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Control-C did not end the pause")
	}
	if out := term.String(); out != MsgServiceListWait+"\n" {
		t.Fatalf("after Control-C: %q", out)
	}
}

// flushTerm records what a command flushed to the screen.
type flushTerm struct {
	fakeTerm
	mu    sync.Mutex
	shown string
}

func (f *flushTerm) Flush() {
	f.mu.Lock()
	f.shown = f.String()
	f.mu.Unlock()
}

func (f *flushTerm) flushed() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.shown
}

// The Smart License Manager runs on the publisher only, whatever a
// profile lists.
func TestSmartLicenseManagerOnPublisherOnly(t *testing.T) {
	nodes := platformNodes(t)
	for state, want := range map[string]bool{"publisher": true, "subscriber": false} {
		out, _ := run(nodes[state], "utils service list")
		if got := strings.Contains(out, "\nCisco Smart License Manager[STARTED]\n"); got != want {
			t.Errorf("%s lists the Smart License Manager: %v, want %v", state, got, want)
		}
		if strings.Count(out, "Smart License Manager") > 1 {
			t.Errorf("%s lists it twice", state)
		}
	}
}

// show network cluster marks the local node and prints the server table on
// a publisher only; no trailing "Successful".
func TestShowNetworkClusterByRole(t *testing.T) {
	nodes := platformNodes(t)
	pub, _ := run(nodes["publisher"], "show network cluster")
	if !strings.Contains(pub, "cucm-pub Publisher callmanager DBPub authenticated\n") ||
		!strings.Contains(pub, "cucm-sub1 Subscriber callmanager DBSub authenticated using TCP since ") ||
		!strings.Contains(pub, "\nServer Table (processnode) Entries\n") || strings.Contains(pub, "Successful") {
		t.Fatalf("publisher:\n%s", pub)
	}
	sub, _ := run(nodes["subscriber"], "show network cluster")
	if !strings.Contains(sub, "cucm-sub2 Subscriber callmanager DBSub authenticated\n") ||
		!strings.Contains(sub, "cucm-pub Publisher callmanager DBPub authenticated using TCP since Sat May 30 04:13:55 2026\n") ||
		strings.Contains(sub, "Server Table") {
		t.Fatalf("subscriber:\n%s", sub)
	}
}

// A single node has no replication to show, as CUCM answers.
func TestDBReplicationSingleNode(t *testing.T) {
	p, err := publisher.ParseProfile([]byte(`{"hostname":"solo","version":"14"}`))
	if err != nil {
		t.Fatal(err)
	}
	r := NewRunner(Publisher, p, nil)
	r.Clock = clock.Fixed(t0)
	out, res := run(r, "utils dbreplication runtimestate")
	if res != OK || out != "\n"+msgSingleNodeReplication+"\n" {
		t.Fatalf("%v %q", res, out)
	}
}

// The shell's session shows a command's first lines when asked, as utils
// service list needs before its pause.
var _ interface{ Flush() } = (*shell.Session)(nil)
