package commands

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/internal/statedir"

	"github.com/ucmsh/ucmsh/internal/clock"

	"github.com/ucmsh/ucmsh/cssm"
	"github.com/ucmsh/ucmsh/golden"
)

// lab is a licensing server (cssm) on 127.0.0.1 with one virtual account,
// and a node set to reach it as an ssm-satellite.
type lab struct {
	t      *testing.T
	srv    *httptest.Server
	portal *cssm.Portal
	node   *node
	addr   string
	down   atomic.Bool
}

func newLab(t *testing.T, licenses map[string]int, exportKeys int) *lab {
	t.Helper()
	store, err := cssm.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	clock := clock.System{}
	h := cssm.NewServer(store, clock, nil)
	l := &lab{t: t}
	// While down, the server drops every connection: the node sees an
	// unreachable server at an address that stays the same.
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l.down.Load() {
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		h.ServeHTTP(w, r)
	}))
	srv.Listener.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = ln
	srv.Start()
	t.Cleanup(func() { srv.Close(); h.Close() })
	l.srv, l.portal, l.node, l.addr = srv, &cssm.Portal{Store: store, Clock: clock}, newNode(t), ln.Addr().String()
	trustCSSM(t, store, l.node)
	l.must(l.portal.CreateAccount("BU Production Test", "TAC-CollabTesting"))
	for tier, n := range licenses {
		l.must(l.portal.AddLicense("TAC-CollabTesting", cssm.LicenseSpec{Tier: tier, Count: n}))
	}
	if exportKeys > 0 {
		l.must(l.portal.AddExportKeys("TAC-CollabTesting", exportKeys))
	}
	return l
}

// trustCSSM puts cssm's key into the node's trust/, as cssm serve does for
// the node that shares its state root.
func trustCSSM(t testing.TB, store *cssm.Store, n *node) {
	t.Helper()
	key, err := store.SigningKey()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := cssm.PublicKeyPEM(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(statedir.Node(n.store.Dir()).Trust(), "cssm.pem"), pub, 0o600); err != nil {
		t.Fatal(err)
	}
}

func (l *lab) must(_ string, err error) {
	l.t.Helper()
	if err != nil {
		l.t.Fatal(err)
	}
}

func (l *lab) token(allowExport bool) string {
	l.t.Helper()
	tok, err := l.portal.CreateToken("TAC-CollabTesting", cssm.TokenOptions{ExpiresDays: 30, MaxUses: 10, AllowExport: allowExport})
	if err != nil {
		l.t.Fatal(err)
	}
	return strings.TrimSpace(tok)
}

// do runs commands on the node at a time and fails the test if any fails.
func (l *lab) do(at time.Duration, usage map[string]int, lines ...string) *Runner {
	l.t.Helper()
	r := l.node.at(t0.Add(at), usage)
	for _, line := range lines {
		if out, res := run(r, line); res != OK {
			l.t.Fatalf("%s failed:\n%s", line, out)
		}
	}
	return r
}

// register points the node at the lab and registers it at t0.
func (l *lab) register(usage map[string]int, allowExport bool) {
	l.t.Helper()
	l.do(0, usage, "license smart transport ssm-satellite http://"+l.addr, "license smart register idtoken "+l.token(allowExport))
}

// reports checks every report of the node against the golden files of a
// state; the lab's random port reads as a fixed name.
func (l *lab) reports(state string, r *Runner) {
	l.t.Helper()
	for file, cmd := range reports {
		out, res := run(r, cmd)
		if res != OK {
			l.t.Fatalf("%s failed:\n%s", cmd, out)
		}
		golden.Check(l.t, state+"/"+file, asUsersSeeIt(strings.ReplaceAll(out, l.addr, "cssm.lab.example.com:8443")))
	}
}

var fullPool = map[string]int{"Enhanced": 10, "Basic": 10, "Essential": 10}

// Every report in every state of the connected mode.
func TestRegisteredReports(t *testing.T) {
	const hour, dayT = time.Hour, 24 * time.Hour
	states := []struct {
		name string
		run  func(l *lab) *Runner
	}{
		{"registered", func(l *lab) *Runner {
			l.register(labUsage, false)
			return l.do(hour, labUsage)
		}},
		// Enhanced licenses short, but CUWL covers them.
		{"tier_substitution", func(l *lab) *Runner {
			l.register(labUsage, false)
			return l.do(hour, labUsage)
		}},
		// Enhanced short with nothing above: 90 days of overage.
		{"in_overage", func(l *lab) *Runner {
			l.register(labUsage, false)
			return l.do(10*dayT, labUsage)
		}},
		// Still short after the monthly renewals: the overage has run out.
		{"out_of_compliance", func(l *lab) *Runner {
			l.register(labUsage, false)
			for d := 30; d <= 90; d += 30 {
				l.do(time.Duration(d)*dayT, labUsage, "show license status")
			}
			return l.do(95*dayT, labUsage)
		}},
		// The server is gone: renewals fail until the authorization lapses.
		{"authorization_expired", func(l *lab) *Runner {
			l.register(labUsage, false)
			l.srv.Close()
			l.do(31*dayT, labUsage, "show license status")
			return l.do(95*dayT, labUsage)
		}},
		// A year without a registration renewal: back to evaluation.
		{"registration_expired", func(l *lab) *Runner {
			l.register(labUsage, false)
			l.srv.Close()
			return l.do(366*dayT, labUsage)
		}},
		{"export_authorized", func(l *lab) *Runner {
			l.register(labUsage, true)
			return l.do(hour, labUsage, "license smart export request local CUCM_Export_Restricted_Authorization_Key")
		}},
		// The request could not reach the server: it waits for a retry.
		{"export_pending", func(l *lab) *Runner {
			l.register(labUsage, true)
			l.srv.Close()
			r := l.node.at(t0.Add(hour), labUsage)
			if out, res := run(r, "license smart export request local CUCM_Export_Restricted_Authorization_Key"); res != Failed ||
				!strings.Contains(out, "kept and retried every hour; cancel it with license smart export cancel.") {
				t.Fatalf("export request with the server down:\n%s", out)
			}
			return r
		}},
		{"deregistered", func(l *lab) *Runner {
			l.register(labUsage, false)
			l.do(dayT, labUsage, "license smart deregister")
			return l.do(dayT+hour, labUsage)
		}},
		// A proxy set up with authentication shows in the status.
		{"proxy_transport", func(l *lab) *Runner {
			r := l.node.at(t0, labUsage)
			if out, res := run(r, "license smart transport proxy proxy.example.com 3128", "y", "labuser", "secret"); res != OK {
				t.Fatalf("proxy:\n%s", out)
			}
			return r
		}},
	}
	pools := map[string]map[string]int{
		"tier_substitution": {"CUWL": 20, "Basic": 10, "Essential": 10},
		"in_overage":        {"Enhanced": 2, "Basic": 10, "Essential": 10},
		"out_of_compliance": {"Enhanced": 2, "Basic": 10, "Essential": 10},
	}
	for _, st := range states {
		t.Run(st.name, func(t *testing.T) {
			pool := fullPool
			if p, ok := pools[st.name]; ok {
				pool = p
			}
			l := newLab(t, pool, 2)
			l.reports(st.name, st.run(l))
		})
	}
}
