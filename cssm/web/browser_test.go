package web

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ucmsh/ucmsh/cssm"
)

// Browser tests drive Debian's chromium headless. Without it they skip, unless
// CSSM_PORTAL_BROWSER=required (.ci/portal-browser.sh), which makes its
// absence a failure.

var updateScreenshots = flag.Bool("update-screenshots", false, "rewrite docs/portal-*.png from the seeded portal")

const chromiumPath = "/usr/bin/chromium"

// chrome is a headless chromium with a fresh profile; it fails the test on
// any console error, uncaught exception or logged error (a CSP violation).
type chrome struct {
	t        *testing.T
	ctx      context.Context
	mu       sync.Mutex
	problems []string
	// selfTest keeps the problems for the test to look at instead of failing.
	selfTest bool
}

func newChrome(t *testing.T) *chrome {
	t.Helper()
	path := chromiumPath
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CSSM_PORTAL_BROWSER") == "required" {
			t.Fatalf("chromium is required (CSSM_PORTAL_BROWSER=required) but %s is missing: apt-get install -y chromium", path)
		}
		t.Skipf("no %s: apt-get install -y chromium to run the browser tests", path)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	c := &chrome{t: t, ctx: ctx}
	// Subscribing starts the browser and its tab; the reader runs until the
	// context ends.
	messages := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				c.problem("console %s: %s (%s)", m.Type, m.Text, m.URL)
			}
		}
	}()
	t.Cleanup(func() {
		cancelC()
		cancelA()
		<-done
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.selfTest {
			return
		}
		for _, p := range c.problems {
			t.Errorf("browser: %s", p)
		}
	})
	return c
}

func (c *chrome) problem(format string, args ...any) {
	c.mu.Lock()
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
	c.mu.Unlock()
}

// step bounds one browser action: generous, for a loaded 2-core machine.
const step = 60 * time.Second

func (c *chrome) run(actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, step)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		c.t.Fatal(err)
	}
}

func get[T any](c *chrome, a chromedp.Action[T]) T {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, step)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		c.t.Fatal(err)
	}
	return v
}

// text is the visible text of the first element matching the CSS selector.
func (c *chrome) text(sel string) string { c.t.Helper(); return get(c, chromedp.Text(sel)) }

func (c *chrome) value(sel string) string { c.t.Helper(); return get(c, chromedp.Value(sel)) }

// shot saves a full-page screenshot as path (PNG: quality 100).
func (c *chrome) shot(path string) {
	c.t.Helper()
	png := get(c, chromedp.FullScreenshot(100))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		c.t.Fatal(err)
	}
}

func (c *chrome) login(base, user string) {
	c.t.Helper()
	c.run(
		chromedp.Navigate(base+"/portal/"),
		chromedp.WaitVisible(`input[name=user]`),
		chromedp.SendKeys(`input[name=user]`, user),
		chromedp.SendKeys(`input[name=password]`, password),
		chromedp.Click(`form.login button`),
		chromedp.WaitVisible(`form.picker`),
	)
}

// node runs the ucmsh binary against the state root, as an admin at the CLI.
type node struct {
	t         *testing.T
	bin, root string
	now       func() time.Time
}

var buildOnce sync.Once
var ucmshBin string
var buildErr error

func buildUcmsh(t *testing.T) string {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "portal-ucmsh")
		if err != nil {
			buildErr = err
			return
		}
		ucmshBin = filepath.Join(dir, "ucmsh")
		out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", ucmshBin, "github.com/ucmsh/ucmsh/cmd/ucmsh").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ucmsh: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return ucmshBin
}

func (n *node) run(stdin string, args ...string) string {
	n.t.Helper()
	cmd := exec.Command(n.bin, append([]string{"--now", n.now().Format(time.RFC3339)}, args...)...)
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+n.root)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		n.t.Fatalf("ucmsh %q: %v\n%s", args, err, out)
	}
	return string(out)
}

// browserSite is a site whose store is in the state root a node shares, so
// that the node trusts cssm's key.
func browserSite(t *testing.T) (*site, string) {
	root := t.TempDir()
	s := newSiteAt(t, filepath.Join(root, "ucmsh", "cssm"))
	if _, _, err := s.store.PublishKey(); err != nil {
		t.Fatal(err)
	}
	return s, root
}

var returnCodeLine = regexp.MustCompile(`(?m)^([A-Za-z0-9]{6}(?:-[A-Za-z0-9]{6}){7}-[A-Za-z0-9]{3})\s*$`)
var confirmationLine = regexp.MustCompile(`CSSM account:([0-9a-f]{8})`)

func TestBrowserTokenRegisterReserveReturnAlerts(t *testing.T) {
	c := newChrome(t)
	s, root := browserSite(t)
	s.must(s.portal.AddLicense("TAC", cssm.LicenseSpec{Tier: "Enhanced", Count: 10}))
	s.must(s.portal.AddLicense("TAC", cssm.LicenseSpec{Tier: "Basic", Count: 10}))
	s.must(s.portal.AddLicense("TAC", cssm.LicenseSpec{Tier: "Essential", Count: 10}))
	shots := t.TempDir()
	base := s.srv.URL
	bin := buildUcmsh(t)

	c.login(base, "alice")
	// General: create a token.
	c.run(
		chromedp.Navigate(base+"/portal/?va=TAC&tab=general"),
		chromedp.SendKeys(`input[name=description]`, "browser test"),
		chromedp.Click(`form[action="/portal/token/create"] button`),
		chromedp.WaitVisible(`#new-token`),
	)
	tok := strings.TrimSpace(c.value(`#new-token`))
	if len(tok) != 80 {
		t.Fatalf("the page's new token is %q", tok)
	}
	if got := c.text(`#tokens tbody`); !strings.Contains(got, "browser test") {
		t.Fatalf("the token list does not show it: %q", got)
	}
	c.shot(filepath.Join(shots, "01-token.png"))

	// A node registers with it through its CLI.
	pub := &node{t: t, bin: bin, root: root, now: s.clock.Now}
	pub.run("", "-c", "license smart transport ssm-satellite "+base)
	if out := pub.run("", "-c", "license smart register idtoken "+tok); !strings.Contains(out, "Registration succeeded") {
		t.Fatalf("register: %s", out)
	}
	ins, err := s.portal.Instances("TAC")
	if err != nil || len(ins) != 1 {
		t.Fatalf("instances %v %v", ins, err)
	}
	c.run(chromedp.Navigate(base + "/portal/?va=TAC&tab=instances"))
	if got := c.text(`#instances tbody`); !strings.Contains(got, ins[0].UDI) || !strings.Contains(got, ins[0].Hostname) {
		t.Fatalf("the instance is not on the page: %q", got)
	}
	c.shot(filepath.Join(shots, "02-instances.png"))
	c.run(chromedp.Navigate(base + "/portal/?va=TAC&tab=licenses"))
	if charts := get(c, chromedp.Nodes(`svg.chart`)); len(charts) == 0 {
		t.Fatal("no usage chart on the Licenses tab")
	}
	c.shot(filepath.Join(shots, "03-licenses.png"))

	// A second, air-gapped node reserves licences through the wizard.
	root2 := t.TempDir()
	trust := filepath.Join(root, "ucmsh", "node", "trust")
	if err := os.MkdirAll(filepath.Join(root2, "ucmsh", "node"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-r", trust, filepath.Join(root2, "ucmsh", "node")).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	gap := &node{t: t, bin: bin, root: root2, now: s.clock.Now}
	gap.run("", "-c", "license smart reservation enable")
	req := strings.TrimSpace(gap.run("", "-c", "license smart reservation request"))
	c.run(
		chromedp.Navigate(base+"/portal/?va=TAC&tab=reserve"),
		chromedp.SendKeys(`textarea[name=request_code]`, req),
		chromedp.SetValue(`input[name="qty_`+tierTag("Enhanced")+`"]`, "2"),
		chromedp.Click(`form[action="/portal/reserve"] button`),
		chromedp.WaitVisible(`#auth-code`),
	)
	code := strings.TrimSpace(c.value(`#auth-code`))
	c.shot(filepath.Join(shots, "04-reserved.png"))
	out := gap.run("", "-c", `license smart reservation install "`+code+`"`)
	m := confirmationLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("install: %s", out)
	}
	c.run(
		chromedp.Navigate(base+"/portal/?va=TAC&tab=reserve"),
		chromedp.SendKeys(`input[name=confirmation]`, m[1]),
		chromedp.Click(`form[action="/portal/reserve/confirm"] button`),
		chromedp.WaitVisible(`p.flash`),
	)
	if got := c.text(`#reservations tbody`); !strings.Contains(got, m[1]) {
		t.Fatalf("the confirmation code is not shown: %q", got)
	}

	// The node returns its licences; the portal removes it with the return code.
	out = gap.run("license smart reservation return\ny\n")
	rm := returnCodeLine.FindStringSubmatch(out)
	if rm == nil {
		t.Fatalf("return: %s", out)
	}
	c.run(
		chromedp.Navigate(base+"/portal/?va=TAC&tab=instances"),
		chromedp.SendKeys(`input[name=return_code]`, rm[1]),
		chromedp.Click(`form[action="/portal/instance/remove"]:has(input[name=return_code]) button`),
		chromedp.WaitVisible(`p.flash`),
	)
	if rs, _ := s.portal.Reservations("TAC"); len(rs) != 0 {
		t.Fatalf("still reserved after the return: %+v", rs)
	}
	c.run(chromedp.Navigate(base + "/portal/?va=TAC&tab=alerts"))
	if got := c.text(`table.alerts`); !strings.Contains(got, cssm.AlertReturned) {
		t.Fatalf("alerts: %q", got)
	}
	c.shot(filepath.Join(shots, "05-alerts.png"))
	c.run(chromedp.Navigate(base + "/portal/?va=TAC&tab=events"))
	if got := c.text(`#events`); !strings.Contains(got, "alice") || !strings.Contains(got, "product ") {
		t.Fatalf("events: %q", got)
	}
	c.shot(filepath.Join(shots, "06-events.png"))
	t.Logf("screenshots in %s", shots)
}

// TestScreenshots opens every tab of the seeded portal in chromium (no console
// error) and, with -update-screenshots, writes them to docs/ for the README.
func TestScreenshots(t *testing.T) {
	c := newChrome(t)
	s := newSite(t)
	s.seed()
	s.clock.Add(12 * time.Hour)
	dir := t.TempDir()
	if *updateScreenshots {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", "docs")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c.run(chromedp.Navigate(s.srv.URL+"/portal/login"), chromedp.WaitVisible(`input[name=user]`))
	c.shot(filepath.Join(dir, "portal-login.png"))
	c.login(s.srv.URL, "alice")
	for _, tab := range tabs {
		c.run(chromedp.Navigate(s.srv.URL+"/portal/?va=TAC&tab="+tab), chromedp.WaitVisible(`nav.tabs`))
		c.shot(filepath.Join(dir, "portal-"+tab+".png"))
	}
}

// The console watch catches what a page does wrong: an inline script (refused
// by the portal's Content-Security-Policy) that logs an error.
func TestBrowserConsoleErrorsAreCaught(t *testing.T) {
	c := newChrome(t)
	c.selfTest = true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<!DOCTYPE html><html><head><link rel="icon" href="data:,"></head><body><p id="x">x</p><script>console.error("broken page")</script></body></html>`)
	}))
	defer srv.Close()
	c.run(chromedp.Navigate(srv.URL), chromedp.WaitVisible(`#x`))
	deadline := time.Now().Add(step)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		n := len(c.problems)
		c.mu.Unlock()
		if n > 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("a console.error was not caught")
}
