package lab

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/publisher"
)

// fakeNode serves nothing over SSH (the shell is cmd/ucmsh's): it holds
// the listener open and runs the publisher's licensing service, which is
// what these tests look at.
func fakeNode(ctx context.Context, spec NodeSpec, ln net.Listener) (*StartedNode, error) {
	sn := &StartedNode{Stop: func() { ln.Close() }}
	if spec.Place.Role == Publisher {
		store, err := publisher.OpenStore(spec.State)
		if err != nil {
			return nil, err
		}
		sn.Service = publisher.NewService(store, spec.Clock, spec.Profile)
	}
	return sn, nil
}

// startLab starts a lab of the default seed with a stopped clock, so
// that only Advance moves it.
func startLab(t *testing.T, dir string, clusters, subscribers int) *Lab {
	t.Helper()
	zero := 0
	f, err := Generate(clusters, subscribers, Plan{FirstPort: &zero})
	if err != nil {
		t.Fatal(err)
	}
	return upLab(t, dir, f)
}

func upLab(t *testing.T, dir string, f *File) *Lab {
	t.Helper()
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("correct horse battery\n"), 0o600)
	l, err := Up(context.Background(), Config{
		Dir: dir, File: f, SetSpeed: true, Speed: 0,
		Accounts:  []Account{{Name: "admin", PasswordFile: pw}},
		StartNode: fakeNode,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Stop)
	return l
}

func (l *Lab) service(t *testing.T, host string) *publisher.Service {
	t.Helper()
	for _, n := range l.nodes {
		if n.place.Hostname == host {
			return n.svc()
		}
	}
	t.Fatalf("no node %s", host)
	return nil
}

func registerPub(t *testing.T, l *Lab, cluster int) *publisher.Service {
	t.Helper()
	c := l.saved.File.Clusters[cluster]
	svc := l.service(t, publisherOf(c))
	if _, err := svc.Register(context.Background(), l.Tokens()[c.Token].Token, false); err != nil {
		t.Fatal(err)
	}
	return svc
}

func report(t *testing.T, svc *publisher.Service) *publisher.Report {
	t.Helper()
	r, err := svc.Report()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func countEvents(r *publisher.Report, text string) int {
	n := 0
	for _, e := range r.Events {
		if strings.Contains(e.Text, text) {
			n++
		}
	}
	return n
}

// A jump of seven months renews the authorization every 30 days and the
// registration at six months, each at the instant it fell due.
func TestAdvanceRunsRenewalsWhenDue(t *testing.T) {
	l := startLab(t, t.TempDir(), 1, 1)
	svc := registerPub(t, l, 0)
	renewalDue := *report(t, svc).Registration.NextRenewal
	if _, err := l.Advance(context.Background(), 7*30*24*time.Hour+time.Hour); err != nil {
		t.Fatal(err)
	}
	r := report(t, svc)
	if n := countEvents(r, "License authorization renewed: AUTHORIZED"); n != 8 { // at registration, then 7 renewals
		t.Errorf("%d authorization renewals, want 8", n)
	}
	if n := countEvents(r, "Registration renewed"); n != 1 {
		t.Errorf("%d registration renewals, want 1", n)
	}
	for _, e := range r.Events {
		if e.Text == "Registration renewed" && !e.At.Equal(renewalDue) {
			t.Errorf("registration renewed at %v, want %v", e.At, renewalDue)
		}
	}
	if r.Authorization.Status != publisher.AuthAuthorized {
		t.Errorf("authorization %s after the jump", r.Authorization.Status)
	}
}

// The publisher reports the whole cluster's usage, and subscribers run
// no licensing service.
func TestPublisherReportsTheClusterUsage(t *testing.T) {
	l := startLab(t, t.TempDir(), 1, 2)
	r := report(t, l.service(t, "c1-pub"))
	got := map[string]int{}
	for _, e := range r.Usage.Entitlements {
		got[e.Key] = e.Count
	}
	if got["Enhanced"] != 5+2+2 || got["Basic"] != 3+1+1 || got["Essential"] != 2 {
		t.Errorf("publisher usage %v, want Enhanced 9, Basic 5, Essential 2", got)
	}
	if l.service(t, "c1-sub1") != nil {
		t.Error("a subscriber has a licensing service")
	}
}

// Each fault shows on the node where a real node shows it, and the node
// recovers once it is cleared.
func TestFaultsShowAndClear(t *testing.T) {
	l := startLab(t, t.TempDir(), 2, 0)
	svc := registerPub(t, l, 0)
	other := registerPub(t, l, 1)
	ctx := context.Background()
	lastAuth := func(s *publisher.Service) *publisher.Attempt { return report(t, s).Authorization.LastCommunication }
	renew := func(s *publisher.Service) error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		return s.RenewAuth(ctx)
	}
	for _, tc := range []struct {
		kind   string
		reason string // the authorization's Failure reason
	}{
		{FaultUnreachable, "Communication message send error"},
		{FaultTimeout, "Communication message send error"},
		{FaultHTTP5xx, "The licensing server is temporarily unavailable (HTTP 503); try again later."},
		{FaultRemoved, "This product instance is not registered with the licensing server (it may have been removed there); register the product again."},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			if err := l.SetFault(ctx, Fault{Target: "cluster1", Kind: tc.kind}); err != nil {
				t.Fatal(err)
			}
			if err := renew(svc); err == nil {
				t.Fatal("renewal succeeded under the fault")
			}
			if a := lastAuth(svc); a.Succeeded || a.Reason != tc.reason {
				t.Fatalf("last attempt %+v, want FAILED with %q", a, tc.reason)
			}
			if err := renew(other); err != nil {
				t.Fatalf("the fault of cluster1 reached cluster2: %v", err)
			}
			if err := l.ClearFault(ctx, "cluster1", tc.kind); err != nil {
				t.Fatal(err)
			}
			if err := renew(svc); err != nil {
				t.Fatalf("no recovery after clearing: %v", err)
			}
			if a := lastAuth(svc); !a.Succeeded {
				t.Fatalf("last attempt %+v after recovery", a)
			}
		})
	}

	t.Run("slow", func(t *testing.T) {
		if err := l.SetFault(ctx, Fault{Target: TargetCSSM, Kind: FaultSlow, Delay: 300 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := renew(other); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 300*time.Millisecond {
			t.Fatalf("answered in %v under a 300ms slow fault", d)
		}
		l.ClearFault(ctx, "", "")
	})

	t.Run(FaultPoolExhausted, func(t *testing.T) {
		if err := l.SetFault(ctx, Fault{Target: "cluster1", Kind: FaultPoolExhausted}); err != nil {
			t.Fatal(err)
		}
		renew(svc)
		if s := report(t, svc).Authorization.Status; s != publisher.AuthOutOfCompliance {
			t.Fatalf("status %s with the pool exhausted", s)
		}
		if err := l.ClearFault(ctx, "cluster1", FaultPoolExhausted); err != nil {
			t.Fatal(err)
		}
		renew(svc)
		if s := report(t, svc).Authorization.Status; s != publisher.AuthAuthorized {
			t.Fatalf("status %s after the pool came back", s)
		}
	})

	t.Run("registration and export refusals", func(t *testing.T) {
		for _, tc := range []struct{ kind, want string }{
			{FaultTokenRevoked, "The registration token is not valid"},
			{FaultTokenUsedUp, "used as many times as it allows"},
		} {
			l.SetFault(ctx, Fault{Target: "cluster2", Kind: tc.kind})
			_, err := other.Register(ctx, l.Tokens()["cluster2"].Token, true)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: register gave %v, want %q", tc.kind, err, tc.want)
			}
			l.ClearFault(ctx, "cluster2", tc.kind)
			if _, err := other.Register(ctx, l.Tokens()["cluster2"].Token, true); err != nil {
				t.Errorf("%s: no recovery: %v", tc.kind, err)
			}
		}
		l.SetFault(ctx, Fault{Target: "cluster2", Kind: FaultNoExportKeys})
		err := other.ExportRequest(ctx, publisher.ExportFeature)
		if err == nil || !strings.Contains(err.Error(), "no export authorization key left") {
			t.Errorf("export request gave %v", err)
		}
		l.ClearFault(ctx, "cluster2", FaultNoExportKeys)
		if err := other.ExportRequest(ctx, publisher.ExportFeature); err != nil {
			t.Errorf("export request after clearing: %v", err)
		}
	})

	if err := l.SetFault(ctx, Fault{Target: "nowhere", Kind: FaultSlow}); err == nil || !strings.Contains(err.Error(), "not a fault target") {
		t.Errorf("unknown target: %v", err)
	}
	if err := l.SetFault(ctx, Fault{Target: "cluster1", Kind: "fire"}); err == nil || !strings.Contains(err.Error(), "not a fault") {
		t.Errorf("unknown kind: %v", err)
	}
}

// A snapshot holds every node and cssm as of one instant; loading it
// brings them back; its name cannot leave the lab folder.
func TestSnapshotSaveAndLoad(t *testing.T) {
	dir := t.TempDir()
	l := startLab(t, dir, 1, 1)
	registerPub(t, l, 0)
	snap, err := l.SaveSnapshot("registered")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.service(t, "c1-pub").Deregister(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := l.LoadSnapshot("registered"); err != nil {
		t.Fatal(err)
	}
	svc := l.service(t, "c1-pub")
	if r := report(t, svc); r.Registration.Status != publisher.Registered {
		t.Fatalf("after loading: %s", r.Registration.Status)
	}
	// cssm came back too: it still knows the instance.
	if err := svc.RenewAuth(context.Background()); err != nil {
		t.Fatalf("cssm does not know the node after loading: %v", err)
	}
	if !l.clock.Now().Equal(snap.LabTime) && l.clock.Now().Before(snap.LabTime) {
		t.Fatal("loading moved the clock back")
	}
	if _, err := l.SaveSnapshot(strings.Repeat("x", 64)); err != nil {
		t.Errorf("a snapshot name of 64 characters: %v", err)
	}
	for _, bad := range []string{"../escape", "a/b", ".hidden", "..", "", strings.Repeat("x", 65)} {
		if _, err := l.SaveSnapshot(bad); err == nil {
			t.Errorf("snapshot name %q accepted", bad)
		}
		if _, err := l.LoadSnapshot(bad); err == nil {
			t.Errorf("snapshot load %q accepted", bad)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "escape")); err == nil {
		t.Error("a snapshot escaped the lab folder")
	}
}

// An address in use stops the lab before anything starts, naming it.
func TestPortInUseStartsNothing(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	f, _ := Generate(1, 1, Plan{})
	f.Clusters[0].Nodes[1].Address = busy.Addr().String()
	free := 0
	f.Plan.FirstPort = &free
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("correct horse battery\n"), 0o600)
	started := 0
	_, err = Up(context.Background(), Config{
		Dir: t.TempDir(), File: f, Accounts: []Account{{Name: "admin", PasswordFile: pw}},
		StartNode: func(ctx context.Context, s NodeSpec, ln net.Listener) (*StartedNode, error) {
			started++
			return fakeNode(ctx, s, ln)
		},
	})
	want := "127.0.0.1:" + itoa(port) + " for c1-sub1"
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "nothing was started") {
		t.Fatalf("error %v, want one naming %s", err, want)
	}
	if started != 0 {
		t.Fatalf("%d nodes started", started)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// The control plane answers only callers with the secret from the lab
// folder's control.json, which only the owner can read.
func TestControlPlaneNeedsTheSecret(t *testing.T) {
	dir := t.TempDir()
	startLab(t, dir, 1, 0)
	fi, err := os.Stat(ControlFile(dir))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("control file %v %v", fi.Mode(), err)
	}
	c, err := Dial(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"", "Bearer wrong", "Bearer " + c.Info.Secret + "x"} {
		req, _ := http.NewRequest(http.MethodPost, c.Info.URL+"/v1/down", nil)
		if secret != "" {
			req.Header.Set("Authorization", secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%q: status %d, want 401", secret, resp.StatusCode)
		}
	}
	var st Status
	if err := c.Do(http.MethodGet, "/v1/status", nil, &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Nodes) != 1 || !st.Nodes[0].Accepting || !st.CSSM.OK || len(st.Tokens) != 1 {
		t.Fatalf("status %+v", st)
	}
}

// A lab stopped (or killed) resumes from its folder on the same addresses
// with its state; reset goes back to the seed.
func TestResumeAndReset(t *testing.T) {
	dir := t.TempDir()
	l := startLab(t, dir, 1, 0)
	registerPub(t, l, 0)
	addr := l.Places()[0].Addr()
	tok := l.Tokens()["cluster1"].Token
	l.Stop()

	l2, err := Up(context.Background(), Config{Dir: dir, StartNode: fakeNode})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Stop()
	if got := l2.Places()[0].Addr(); got != addr {
		t.Errorf("resumed on %s, was %s", got, addr)
	}
	if r := report(t, l2.service(t, "c1-pub")); r.Registration.Status != publisher.Registered {
		t.Errorf("resumed lab: %s", r.Registration.Status)
	}
	if err := l2.Reset(); err != nil {
		t.Fatal(err)
	}
	if r := report(t, l2.service(t, "c1-pub")); r.Registration.Status != publisher.Unregistered {
		t.Errorf("after reset: %s", r.Registration.Status)
	}
	if l2.Tokens()["cluster1"].Token == tok {
		t.Error("reset kept the old token")
	}
}

// With the clock running fast, renewals happen by themselves, close to
// when they fall due (here 30 simulated days pass in 3 real seconds).
func TestTimersFireByThemselves(t *testing.T) {
	l := startLab(t, t.TempDir(), 1, 0)
	svc := registerPub(t, l, 0)
	due := *report(t, svc).Authorization.NextCommunication
	if err := l.SetSpeed(float64(30*24*time.Hour) / float64(3*time.Second)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := report(t, svc)
		if countEvents(r, "License authorization renewed") >= 2 {
			at := r.Authorization.LastCommunication.At
			if late := at.Sub(due); late < 0 || late > time.Hour {
				t.Fatalf("renewed at %v, due %v", at, due)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no renewal by itself; lab time %v, due %v", l.clock.Now(), due)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A machine too busy to wake a timer on time delays it in real time, not
// in lab time: the clock waits at the timer's instant until its call is
// sent (for at most clock.MaxHold), then catches up.
func TestABusyMachineDoesNotMakeRenewalsLate(t *testing.T) {
	l := startLab(t, t.TempDir(), 2, 0)
	svc := registerPub(t, l, 0)
	registerPub(t, l, 1)
	due := *report(t, svc).Authorization.NextCommunication
	if _, err := l.Advance(context.Background(), due.Sub(l.clock.Now())-time.Minute); err != nil {
		t.Fatal(err)
	}
	var n *labNode
	for _, m := range l.nodes {
		if m.svc() == svc {
			n = m
		}
	}
	n.mu.Lock() // its agent cannot run, as if starved of CPU
	if err := l.SetSpeed(1440); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // 72 simulated minutes
	n.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := report(t, svc)
		if countEvents(r, "License authorization renewed") >= 2 {
			if at := r.Authorization.LastCommunication.At; at.Sub(due).Abs() > time.Minute {
				t.Fatalf("renewed at %v, due %v: %v late", at, due, at.Sub(due))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no renewal; lab time %v, due %v", l.clock.Now(), due)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if now := l.clock.Now(); now.Sub(due) < time.Hour {
		t.Fatalf("the clock did not catch up after the renewal: %v, due %v", now, due)
	}
}

// A renewal whose answer never comes (a timeout fault) holds the clock
// only until its request reaches cssm: the lab's time runs on while the
// publisher waits.
func TestAnUnansweredRenewalDoesNotStopTheClock(t *testing.T) {
	l := startLab(t, t.TempDir(), 1, 0)
	svc := registerPub(t, l, 0)
	due := *report(t, svc).Authorization.NextCommunication
	ctx := context.Background()
	if _, err := l.Advance(ctx, due.Sub(l.clock.Now())-time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := l.SetFault(ctx, Fault{Target: "cluster1", Kind: FaultTimeout}); err != nil {
		t.Fatal(err)
	}
	defer l.ClearFault(ctx, "cluster1", FaultTimeout)
	if err := l.SetSpeed(1440); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // 48 simulated minutes; clock.MaxHold is 5 s
	if now := l.clock.Now(); now.Sub(due) < 30*time.Minute {
		t.Fatalf("the clock waited for the unanswered renewal: %v, due %v", now, due)
	}
}

// The hosts plan gives each node its own loopback address on one port.
func TestHostsPlanListensOnEachAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.1.1.1:0") // a port free on 127.1.1.1, very likely on the others
	if err != nil {
		t.Fatalf("127.1.1.1 is not a loopback address here (Linux routes all of 127.0.0.0/8): %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	f, err := Generate(2, 1, Plan{Kind: PlanHosts, Port: port})
	if err != nil {
		t.Fatal(err)
	}
	l := upLab(t, t.TempDir(), f)
	var got []string
	for _, p := range l.Places() {
		got = append(got, p.Addr())
		c, err := net.DialTimeout("tcp", p.Addr(), 5*time.Second)
		if err != nil {
			t.Fatalf("%s does not accept: %v", p.Addr(), err)
		}
		c.Close()
	}
	p := strconv.Itoa(port)
	if want := "127.1.1.1:" + p + " 127.1.1.2:" + p + " 127.1.2.1:" + p + " 127.1.2.2:" + p; strings.Join(got, " ") != want {
		t.Fatalf("addresses %s, want %s", strings.Join(got, " "), want)
	}
}

// Two shards of one lab file on this machine: shard 1 runs cssm (and
// its own clusters), shard 2 only its clusters, registering with shard
// 1's cssm.
func TestTwoShardsOneCSSM(t *testing.T) {
	zero := 0
	f, err := Generate(2, 1, Plan{FirstPort: &zero})
	if err != nil {
		t.Fatal(err)
	}
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("correct horse battery\n"), 0o600)
	accounts := []Account{{Name: "admin", PasswordFile: pw}}
	one, err := Up(context.Background(), Config{Dir: t.TempDir(), File: f, Shard: Shard{I: 1, N: 2}, Accounts: accounts, StartNode: fakeNode})
	if err != nil {
		t.Fatal(err)
	}
	defer one.Stop()
	key, err := os.ReadFile(one.dir.cssmKey())
	if err != nil {
		t.Fatal(err)
	}
	inv, err := os.ReadFile(one.dir.inventoryJSON())
	if err != nil {
		t.Fatal(err)
	}
	ext, err := ExternalFromInventory(inv, string(key))
	if err != nil {
		t.Fatal(err)
	}
	two, err := Up(context.Background(), Config{Dir: t.TempDir(), File: f, Shard: Shard{I: 2, N: 2}, Accounts: accounts, StartNode: fakeNode, CSSM: ext})
	if err != nil {
		t.Fatal(err)
	}
	defer two.Stop()

	var hosts1, hosts2 []string
	for _, p := range one.Places() {
		hosts1 = append(hosts1, p.Hostname)
	}
	for _, p := range two.Places() {
		hosts2 = append(hosts2, p.Hostname)
	}
	if strings.Join(hosts1, " ") != "c1-pub c1-sub1" || strings.Join(hosts2, " ") != "c2-pub c2-sub1" {
		t.Fatalf("shard 1 serves %v, shard 2 %v", hosts1, hosts2)
	}
	svc := two.service(t, "c2-pub")
	if _, err := svc.Register(context.Background(), one.Tokens()["cluster2"].Token, false); err != nil {
		t.Fatalf("shard 2 registering with shard 1's cssm: %v", err)
	}
	list, err := one.cssm.portal.Instances("cluster2")
	if err != nil || len(list) != 1 || list[0].Hostname != "c2-pub" {
		t.Fatalf("shard 1's cssm holds %+v, %v", list, err)
	}
	// A fault of cluster2, set on the lab that runs cssm, reaches shard 2.
	if err := one.SetFault(context.Background(), Fault{Target: "cluster2", Kind: FaultHTTP5xx}); err != nil {
		t.Fatal(err)
	}
	if err := svc.RenewAuth(context.Background()); err == nil {
		t.Error("shard 2's c2-pub renewed through cluster2's fault")
	}
	one.ClearFault(context.Background(), "", "")
	if err := svc.RenewAuth(context.Background()); err != nil {
		t.Errorf("after clearing: %v", err)
	}
	if err := two.SetFault(context.Background(), Fault{Target: TargetCSSM, Kind: FaultSlow}); err == nil {
		t.Error("a fault was set on the shard without cssm")
	}
	if _, err := ParseShard("3/2"); err == nil {
		t.Error("--shard 3/2 accepted")
	}
}

// A code cssm issued for another product is refused by the node that
// installs it; clearing the fault returns its licences to the pool.
func TestReservationForAnotherUDI(t *testing.T) {
	l := startLab(t, t.TempDir(), 1, 0)
	ctx := context.Background()
	if err := l.SetFault(ctx, Fault{Target: "cluster1", Kind: FaultOtherUDI}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(l.dir.faultCode("cluster1"))
	if err != nil {
		t.Fatal(err)
	}
	svc := l.service(t, "c1-pub")
	if err := svc.ReservationEnable(); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ReservationRequest(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.ReservationInstall(string(data)); err == nil || !strings.Contains(err.Error(), "does not match the Reservation Request Code") {
		t.Fatalf("installing another product's code: %v", err)
	}
	reserved := func() int {
		u, err := l.cssm.portal.Usage("cluster1")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, b := range u.Balances {
			n += b.Reserved
		}
		return n
	}
	if reserved() != 1 {
		t.Fatalf("%d licenses reserved under the fault, want 1", reserved())
	}
	if err := l.ClearFault(ctx, "cluster1", FaultOtherUDI); err != nil {
		t.Fatal(err)
	}
	if reserved() != 0 {
		t.Fatalf("%d licenses still reserved after clearing", reserved())
	}
	if _, err := os.Stat(l.dir.faultCode("cluster1")); err == nil {
		t.Error("the code file is still there")
	}
}

// A lab killed while it replaced its folders (a snapshot load) comes
// back with the old ones.
func TestRecoverTreeAfterAKilledLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nodes")
	os.MkdirAll(dir+".old/c1-pub", 0o700)
	os.WriteFile(dir+".old/c1-pub/state.json", []byte("{}"), 0o600)
	os.MkdirAll(dir+".loading", 0o700) // half a copy
	recoverTree(dir)
	if _, err := os.Stat(filepath.Join(dir, "c1-pub", "state.json")); err != nil {
		t.Fatalf("the old folder was not put back: %v", err)
	}
	for _, gone := range []string{dir + ".old", dir + ".loading"} {
		if _, err := os.Stat(gone); err == nil {
			t.Errorf("%s left behind", gone)
		}
	}
}

// The inventories list every node in a group per cluster and per role.
func TestInventories(t *testing.T) {
	dir := t.TempDir()
	l := startLab(t, dir, 2, 1)
	ini, err := os.ReadFile(layout(dir).inventoryINI())
	if err != nil {
		t.Fatal(err)
	}
	p := l.Places()
	line := func(i int) string {
		return p[i].Hostname + " ansible_host=127.0.0.1 ansible_port=" + strconv.Itoa(p[i].Port) + " ucm_cluster=" + p[i].Cluster + " ucm_role=" + p[i].Role + "\n"
	}
	for _, want := range []string{
		"[cluster1]\n" + line(0) + line(1) + "\n",
		"[cluster2]\n" + line(2) + line(3) + "\n",
		"[publishers]\n" + line(0) + line(2) + "\n",
		"[subscribers]\n" + line(1) + line(3) + "\n",
		"[all:vars]\nansible_user=admin\n",
	} {
		if !strings.Contains(string(ini), want) {
			t.Errorf("inventory.ini lacks\n%s\nin\n%s", want, ini)
		}
	}
	yml, err := os.ReadFile(layout(dir).inventoryYAML())
	if err != nil {
		t.Fatal(err)
	}
	want := "    publishers:\n      hosts:\n        \"c1-pub\": {ansible_host: \"127.0.0.1\", ansible_port: " + strconv.Itoa(p[0].Port)
	if !strings.Contains(string(yml), want) {
		t.Errorf("inventory.yml lacks %q:\n%s", want, yml)
	}
	var inv Inventory
	data, _ := os.ReadFile(layout(dir).inventoryJSON())
	if err := json.Unmarshal(data, &inv); err != nil || len(inv.Nodes) != 4 || inv.Clusters[1].Publisher != "c2-pub" {
		t.Errorf("inventory.json %+v %v", inv, err)
	}
}

// On the lab clock the evaluation period runs out at its instant, and an
// overage starts with a shortage and ends 90 days later.
func TestEvaluationAndOverageOnTheLabClock(t *testing.T) {
	l := startLab(t, t.TempDir(), 2, 0)
	ctx := context.Background()
	eval := l.service(t, "c1-pub")
	started := report(t, eval).Now
	if _, err := l.Advance(ctx, 91*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	r := report(t, eval)
	if r.Authorization.Status != publisher.AuthEvalExpired || r.Evaluation.ExpiredAt == nil {
		t.Fatalf("after 91 days: %s", r.Authorization.Status)
	}
	if want := started.Add(90 * 24 * time.Hour); r.Evaluation.ExpiredAt.Sub(want).Abs() > time.Second {
		t.Errorf("expired at %v, want %v", r.Evaluation.ExpiredAt, want)
	}

	svc := registerPub(t, l, 1)
	if err := l.SetFault(ctx, Fault{Target: "cluster2", Kind: FaultPoolExhausted}); err != nil {
		t.Fatal(err)
	}
	svc.RenewAuth(ctx)
	entStatus := func() string {
		for _, e := range report(t, svc).Usage.Entitlements {
			if e.Key == "Enhanced" {
				return e.Status
			}
		}
		return ""
	}
	if s := entStatus(); s != publisher.EntOverage {
		t.Fatalf("Enhanced is %s with the pool exhausted, want Overage", s)
	}
	if _, err := l.Advance(ctx, 91*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if s := entStatus(); s != "OutOfCompliance" {
		t.Fatalf("Enhanced is %s after the 90-day overage, want OutOfCompliance", s)
	}
}
