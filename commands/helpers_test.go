package commands

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/internal/clock"

	"github.com/ucmsh/ucmsh/publisher"
)

// fakeTerm is a session for tests: output in a buffer, scripted answers.
type fakeTerm struct {
	bytes.Buffer
	pagination  bool
	count       int
	answers     []string
	interactive bool
	level       *int // privilege level; 4 when nil
}

func (f *fakeTerm) Pagination() bool      { return f.pagination }
func (f *fakeTerm) SetPagination(on bool) { f.pagination = on }
func (f *fakeTerm) CommandCount() int     { return f.count }
func (f *fakeTerm) User() string          { return "admin" }
func (f *fakeTerm) Privilege() int {
	if f.level == nil {
		return 4
	}
	return *f.level
}
func (f *fakeTerm) Interactive() bool { return f.interactive }
func (f *fakeTerm) Confirm(ctx context.Context, p string) (bool, error) {
	a, err := f.Prompt(ctx, p)
	return a == "y" || a == "yes", err
}
func (f *fakeTerm) Prompt(_ context.Context, p string) (string, error) {
	fmt.Fprintln(f, p)
	if len(f.answers) == 0 {
		return "", fmt.Errorf("no answer scripted for %q", p)
	}
	a := f.answers[0]
	f.answers = f.answers[1:]
	return a, nil
}
func (f *fakeTerm) ReadSecret(ctx context.Context, p string) (string, error) { return f.Prompt(ctx, p) }

// The node the golden reports describe: a fixed UDI (the capture's) in
// India Standard Time, as in REFERENCE §3.
const testUUID = "6fe83addc80240bc92dc071ac7a37624"

var t0 = time.Date(2026, 1, 26, 9, 41, 23, 0, time.UTC)

func testProfile(t testing.TB, usage map[string]int) *publisher.Profile {
	t.Helper()
	p := publisher.DefaultProfile()
	p.TimeZone = "Asia/Kolkata"
	p.Usage = usage
	data := fmt.Sprintf(`{"hostname":"cucm-pub","domain":"lab.example.com","version":"14.0.1.13900-155","time_zone":"Asia/Kolkata",
		"hardware":{"platform":"VMware","vcpus":2,"cpu":"Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz","disk_gb":110,"ram_mb":8192},
		"cluster":[{"hostname":"cucm-pub","address":"192.0.2.10","role":"publisher"},{"hostname":"cucm-sub1","address":"192.0.2.11","role":"subscriber"}],
		"usage":%s}`, usageJSON(usage))
	p, err := publisher.ParseProfile([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func usageJSON(u map[string]int) string {
	var parts []string
	for k, v := range u {
		parts = append(parts, fmt.Sprintf("%q:%d", k, v))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

var labUsage = map[string]int{"Enhanced": 5, "Basic": 3, "Essential": 2}

// node is a publisher whose clock and profile a test moves along.
type node struct {
	t     testing.TB
	store *publisher.Store
}

func newNode(t testing.TB) *node {
	t.Helper()
	store, err := publisher.OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &node{t: t, store: store}
}

// at returns a runner for the node at the given time with that usage.
func (n *node) at(now time.Time, usage map[string]int) *Runner {
	svc := publisher.NewService(n.store, clock.Fixed(now), testProfile(n.t, usage))
	svc.NewIdentity = func() (publisher.Identity, error) { return publisher.Identity{UUID: testUUID}, nil }
	// Tests never leave loopback: "direct" goes to a closed local port.
	svc.DirectURL = testDirectURL
	r := NewRunner(Publisher, testProfile(n.t, usage), svc)
	r.Clock = clock.Fixed(now)
	return r
}

// run executes a command and returns its output and outcome.
func run(r *Runner, line string, answers ...string) (string, Outcome) {
	term := &fakeTerm{answers: answers}
	out := r.Execute(context.Background(), term, line)
	return term.String(), out
}

// transcript runs lines as a script would with --echo.
func transcript(r *Runner, lines ...string) string {
	var b strings.Builder
	term := &fakeTerm{pagination: true}
	for _, l := range lines {
		term.count++
		b.WriteString("admin:" + EchoLine(l) + "\n")
		r.Execute(context.Background(), term, l)
		b.WriteString(term.String())
		term.Reset()
	}
	return b.String()
}

// goldenName is the file name of a command's output in golden/<state>/:
// its words joined by "_", e.g. show_license_tech_support.
func goldenName(c *Command) string { return strings.ReplaceAll(c.Path(), " ", "_") }

// testDirectURL stands in for Cisco's licensing service in tests.
const testDirectURL = "http://127.0.0.1:9"

// asUsersSeeIt undoes the test-only direct URL, so golden files show the
// reports users get.
func asUsersSeeIt(out string) string {
	return strings.ReplaceAll(out, testDirectURL, publisher.DefaultTransportURL)
}
