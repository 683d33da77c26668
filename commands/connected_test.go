package commands

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/internal/clock"

	"github.com/ucmsh/ucmsh/cssm"
)

const dayT = 24 * time.Hour

// expectFailure runs a command that must fail with a sentence containing
// want, and leave state.json exactly as it was.
func (l *lab) expectFailure(at time.Duration, line, want string) {
	l.t.Helper()
	path := filepath.Join(l.node.store.Dir(), "state.json")
	before, _ := os.ReadFile(path)
	out, res := run(l.node.at(t0.Add(at), labUsage), line)
	if res != Failed || !strings.Contains(out, want) || !strings.HasSuffix(out, msgFailed+"\n") {
		l.t.Fatalf("%s:\n%s\nwant a failure saying %q", line, out, want)
	}
	// The clock's latest reading is kept as time passes, whatever runs.
	if after, _ := os.ReadFile(path); withoutClockSeen(after) != withoutClockSeen(before) {
		l.t.Fatalf("%s changed the state", line)
	}
}

func withoutClockSeen(state []byte) string {
	var m map[string]any
	if json.Unmarshal(state, &m) != nil {
		return string(state)
	}
	delete(m, "clock_seen")
	out, _ := json.Marshal(m)
	return string(out)
}

func (l *lab) status(at time.Duration) string {
	l.t.Helper()
	out, _ := run(l.node.at(t0.Add(at), labUsage), "show license status")
	return out
}

func TestRegistrationRefusalsChangeNothing(t *testing.T) {
	l := newLab(t, fullPool, 0)
	l.do(0, labUsage, "license smart transport ssm-satellite http://"+l.addr)
	l.expectFailure(0, "license smart register idtoken not-a-token", "The registration token is not valid")

	old := &cssm.Portal{Store: l.portal.Store, Clock: clock.Fixed(time.Now().Add(-40 * dayT))}
	expired, err := old.CreateToken("TAC-CollabTesting", cssm.TokenOptions{ExpiresDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	l.expectFailure(0, "license smart register idtoken "+strings.TrimSpace(expired), "The registration token has expired")

	once, err := l.portal.CreateToken("TAC-CollabTesting", cssm.TokenOptions{ExpiresDays: 30, MaxUses: 1})
	if err != nil {
		t.Fatal(err)
	}
	l.do(0, labUsage, "license smart register idtoken "+strings.TrimSpace(once))
	l.expectFailure(0, "license smart register idtoken "+l.token(false), "This node is already registered (Smart Account BU Production Test, Virtual Account TAC-CollabTesting)")
	l.expectFailure(0, "license smart register idtoken "+strings.TrimSpace(once)+" force", "has been used as many times as it allows")
	l.do(dayT, labUsage, "license smart register idtoken "+l.token(false)+" force")

	// Down: the server read the deregistration, but no answer came. The node
	// cannot tell whether it was done, so the next licensing command sends it
	// again (same idempotency key), and nothing else is sent meanwhile.
	l.down.Store(true)
	if out, res := run(l.node.at(t0.Add(dayT), labUsage), "license smart deregister"); res != Failed ||
		!strings.Contains(out, "cannot be reached") || !strings.Contains(out, "The deregistration is sent again with the next licensing command") {
		t.Fatal(out)
	}
	if out, res := run(l.node.at(t0.Add(dayT), labUsage), "license smart register idtoken "+l.token(false)+" force"); res != Failed ||
		!strings.Contains(out, "has not answered this node's earlier deregistration yet") {
		t.Fatal(out)
	}
	l.down.Store(false)
	if s := l.status(dayT); !strings.Contains(s, "  Status: UNREGISTERED\n") {
		t.Fatalf("the deregistration was not sent again:\n%s", s)
	}
	if insts, err := l.portal.Instances("TAC-CollabTesting"); err != nil || len(insts) != 0 {
		t.Fatalf("cssm still holds %v (%v)", insts, err)
	}
}

func TestExportControl(t *testing.T) {
	l := newLab(t, fullPool, 1)
	l.register(labUsage, false)
	l.expectFailure(time.Hour, "license smart export request local CUCM_Export_Restricted_Authorization_Key", "Export-controlled functionality is not allowed for this node")
	l.expectFailure(time.Hour, "license smart export request local Other_Feature", `"Other_Feature" is not an export-controlled feature`)

	l.do(2*time.Hour, labUsage, "license smart register idtoken "+l.token(true)+" force")
	if s := l.status(2 * time.Hour); !strings.Contains(s, "Export-Controlled Functionality: Allowed") {
		t.Fatal(s)
	}
	// Down: the request waits; the next command an hour later retries it.
	l.down.Store(true)
	l.expectFailureKeepsPending(3*time.Hour, "license smart export request local CUCM_Export_Restricted_Authorization_Key")
	l.down.Store(false)
	if s := l.status(4 * time.Hour); !strings.Contains(s, "    CUCM_Export_Restricted_Authorization_Key\n") || strings.Contains(s, "Pending") {
		t.Fatalf("the retry did not install the key:\n%s", s)
	}
	l.expectFailure(4*time.Hour, "license smart export request local CUCM_Export_Restricted_Authorization_Key", "already installed")
	l.expectFailure(4*time.Hour, "license smart export cancel", "No export key request or return is pending")

	// A return that cannot be sent can be cancelled; the key stays.
	l.down.Store(true)
	l.expectFailureKeepsPending(5*time.Hour, "license smart export return local CUCM_Export_Restricted_Authorization_Key")
	r := l.do(5*time.Hour, labUsage)
	if out, res := run(r, "license smart export cancel"); res != OK || out != "The pending export key return for CUCM_Export_Restricted_Authorization_Key is cancelled.\n" {
		t.Fatal(out)
	}
	l.down.Store(false)
	l.do(6*time.Hour, labUsage, "license smart export return local CUCM_Export_Restricted_Authorization_Key")
	if s := l.status(6 * time.Hour); !strings.Contains(s, "    <none>\n") {
		t.Fatal(s)
	}
}

func (l *lab) expectFailureKeepsPending(at time.Duration, line string) {
	l.t.Helper()
	out, res := run(l.node.at(t0.Add(at), labUsage), line)
	if res != Failed || !strings.Contains(out, "cannot be reached") || !strings.Contains(out, "cancel it with license smart export cancel") {
		l.t.Fatalf("%s:\n%s", line, out)
	}
	if s := l.status(at); !strings.Contains(s, "  Pending ") {
		l.t.Fatalf("nothing pending after %s:\n%s", line, s)
	}
}

// Renewals happen when the node next runs a command after they fall due.
func TestRenewalsFollowTheTimers(t *testing.T) {
	l := newLab(t, fullPool, 0)
	l.register(labUsage, false)
	if s := l.status(29 * dayT); !strings.Contains(s, "Status: AUTHORIZED on Jan 26 15:11:23 2026 IST") {
		t.Fatalf("renewed too early:\n%s", s)
	}
	if s := l.status(31 * dayT); !strings.Contains(s, "Status: AUTHORIZED on Feb 26 15:11:23 2026 IST") {
		t.Fatalf("not renewed after 30 days:\n%s", s)
	}
	// The registration renews 180 days after it was made (Jan 26 -> Jul
	// 25, as captured), not six calendar months.
	if s := l.status(179 * dayT); !strings.Contains(s, "Last Renewal Attempt: SUCCEEDED on Jan 26 15:11:23 2026 IST\n  Next Renewal Attempt: Jul 25 15:11:23 2026 IST\n") {
		t.Fatalf("before the first renewal:\n%s", s)
	}
	s := l.status(200 * dayT)
	for _, want := range []string{"Last Renewal Attempt: SUCCEEDED on Aug 14 15:11:23 2026 IST", "Next Renewal Attempt: Feb 10 15:11:23 2027 IST", "Registration Expires: Aug 14 15:11:23 2027 IST"} {
		if !strings.Contains(s, want) {
			t.Fatalf("after 200 days, want %q:\n%s", want, s)
		}
	}
	// A change in usage is reported at once.
	r := l.node.at(t0.Add(201*dayT), map[string]int{"Enhanced": 7})
	out, _ := run(r, "show license usage")
	if !strings.Contains(out, "AUTHORIZED as of Aug 15 15:11:23 2026 IST") || !strings.Contains(out, "  Count: 7\n  Version: 12.0\n  Status: InCompliance") {
		t.Fatalf("usage change not reported:\n%s", out)
	}
	// A manual renewal with the server down fails and is recorded.
	l.down.Store(true)
	out, res := run(l.node.at(t0.Add(202*dayT), labUsage), "license smart renew auth")
	if res != Failed || !strings.Contains(out, "cannot be reached") {
		t.Fatal(out)
	}
	if s := l.status(202 * dayT); !strings.Contains(s, "Last Communication Attempt: FAILED on Aug 16 15:11:23 2026 IST\n    Failure reason: Communication message send error") {
		t.Fatal(s)
	}
}

// An instance removed on the licensing server's side: renewals say so;
// deregistering still works, locally.
func TestInstanceRemovedOnServer(t *testing.T) {
	l := newLab(t, fullPool, 0)
	l.register(labUsage, false)
	insts, err := l.portal.Instances("TAC-CollabTesting")
	if err != nil || len(insts) != 1 {
		t.Fatal(insts, err)
	}
	l.must(l.portal.RemoveInstance(insts[0].ID, cssm.RemoveOptions{}))
	out, res := run(l.node.at(t0.Add(dayT), labUsage), "license smart renew ID")
	if res != Failed || !strings.Contains(out, "The licensing server no longer knows this node") {
		t.Fatal(out)
	}
	l.do(dayT, labUsage, "license smart deregister")
	if s := l.status(dayT); !strings.Contains(s, "Status: UNREGISTERED") {
		t.Fatal(s)
	}
	l.expectFailure(dayT, "license smart deregister", "This node is not registered")
	l.expectFailure(dayT, "license smart renew auth", "This node is not registered")
}

// The proxy transport asks CUCM's questions and authenticates to the proxy.
func TestRegisterThroughAuthenticatingProxy(t *testing.T) {
	l := newLab(t, fullPool, 0)
	var sawAuth atomic.Value
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(&url.URL{Scheme: "http", Host: l.addr})
	}}
	front := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawAuth.Store(r.Header.Get("Proxy-Authorization"))
		if r.Header.Get("Proxy-Authorization") != "Basic "+base64.StdEncoding.EncodeToString([]byte("labuser:s3cret")) {
			w.WriteHeader(http.StatusProxyAuthRequired)
			return
		}
		proxy.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: front}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())

	r := l.node.at(t0, labUsage)
	r.Service.DirectURL = "http://cssm.invalid" // reached only through the proxy
	out, res := run(r, "license smart transport proxy 127.0.0.1 "+port, "y", "labuser", "s3cret")
	if res != OK || out != "\nDo you want to enable Authentication based proxy ? y/n \nUser Name : \nPassword: \nTransport settings updated successfully.\n" {
		t.Fatalf("proxy dialogue:\n%s", out)
	}
	out, res = run(r, "license smart register idtoken "+l.token(false))
	if res != OK || !strings.Contains(out, "Registration succeeded") {
		t.Fatalf("register through the proxy:\n%s", out)
	}
	if sawAuth.Load() == "" {
		t.Fatal("the proxy saw no credentials")
	}
	for bad, want := range map[string]string{
		"license smart transport proxy 127.0.0.1 99999":      `"99999" is not a TCP port`,
		"license smart transport proxy http://x 80":          `"http://x" is not a proxy host name`,
		"license smart transport ssm-satellite ftp://x":      `"ftp://x" is not a satellite URL`,
		"license smart transport ssm-satellite http://u:p@x": "is not a satellite URL",
	} {
		l.expectFailure(0, bad, want)
	}
}

// A self-signed cssm over TLS is accepted once its certificate is in the
// node's trust folder, and refused otherwise.
func TestTLSLicensingServerIsPinned(t *testing.T) {
	l := newLab(t, fullPool, 0)
	cert, certPEM, err := l.portal.Store.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(cssm.NewServer(l.portal.Store, clock.System{}, nil))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	t.Cleanup(srv.Close)

	l.do(0, labUsage, "license smart transport ssm-satellite "+srv.URL)
	l.expectFailure(0, "license smart register idtoken "+l.token(false), "cannot be reached")
	trust := filepath.Join(l.node.store.Dir(), "trust")
	if err := os.MkdirAll(trust, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(trust, "cssm.crt"), certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	l.do(0, labUsage, "license smart register idtoken "+l.token(false))
}

// Factory reset forgets the registration and the transport, not the
// evaluation period already used.
func TestFactoryResetKeepsTheEvaluationCounter(t *testing.T) {
	l := newLab(t, fullPool, 0)
	l.do(0, labUsage, "show license status") // evaluation starts
	l.do(10*dayT, labUsage, "license smart transport ssm-satellite http://"+l.addr, "license smart register idtoken "+l.token(false))
	l.do(11*dayT, labUsage, "license smart factory reset")
	s := l.status(11 * dayT)
	for _, want := range []string{"  Status: UNREGISTERED\n", "  Type: Direct\n", "  Evaluation Period Remaining: 80 days 0 hr 0 min 0 sec\n"} {
		if !strings.Contains(s, want) {
			t.Fatalf("after factory reset, want %q:\n%s", want, s)
		}
	}
}
