package cssm

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/internal/clock"

	"github.com/ucmsh/ucmsh/cssmapi"
)

// satLab is a parent cssm (account BU/TAC, 10 Enhanced) and a satellite
// "branch" registered with it for TAC, each with its own store and clock.
type satLab struct {
	t      *testing.T
	parent *api
	sat    *api
}

func newSatLab(t *testing.T) *satLab {
	t.Helper()
	parent := newAPI(t)
	parent.addLicense("Enhanced", 10)

	dir := t.TempDir() + "/satellite"
	store, err := openStore(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	sl := &lab{t: t, store: store, clock: clock.NewManual(t0)}
	sl.portal = &Portal{Store: store, Clock: sl.clock}
	srv := NewServer(store, sl.clock, nil)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { ts.Close(); srv.Close() })
	sat := &api{lab: sl, url: ts.URL}

	l := &satLab{t: t, parent: parent, sat: sat}
	parent.must(parent.portal.AddSatellite("branch", l.publicKey(sat.store), []string{"TAC"}))
	sat.must(sat.portal.SetupSatellite("branch", l.publicKey(parent.store)))
	return l
}

func (l *satLab) publicKey(s *Store) []byte {
	l.t.Helper()
	key, err := s.SigningKey()
	if err != nil {
		l.t.Fatal(err)
	}
	pem, err := PublicKeyPEM(&key.PublicKey)
	if err != nil {
		l.t.Fatal(err)
	}
	return pem
}

// sync is the disconnected round: export on the satellite, import on the
// parent, apply the reply on the satellite.
func (l *satLab) sync() {
	l.t.Helper()
	up, err := l.sat.portal.ExportSync()
	if err != nil {
		l.t.Fatal(err)
	}
	reply, err := l.parent.portal.ImportSync(up)
	if err != nil {
		l.t.Fatal(err)
	}
	if _, err := l.sat.portal.ApplySync(reply); err != nil {
		l.t.Fatal(err)
	}
}

func balanceOf(t *testing.T, p *Portal, va, tier string) Balance {
	t.Helper()
	u, err := p.Usage(va)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range u.Balances {
		if b.Tier == tier {
			return b
		}
	}
	t.Fatalf("no %s in %s", tier, va)
	return Balance{}
}

// The satellite gets its accounts from the parent, serves a node itself, and
// its usage counts in the parent's pool; the parent's own use shrinks what
// the satellite may serve.
func TestSatelliteMirrorsAccountsServesNodesAndReportsUsage(t *testing.T) {
	l := newSatLab(t)
	l.sync()
	if b := balanceOf(t, l.sat.portal, "TAC", "Enhanced"); b.Purchased != 10 {
		t.Fatalf("satellite pool after the first sync: %+v", b)
	}

	id, cred := l.sat.register(l.sat.token(TokenOptions{}), 1)
	var auth cssmapi.AuthorizeResponse
	l.sat.authorize(id, cred, &auth, cssmapi.Usage{Tag: tag("Enhanced"), Count: 4})
	if auth.Status != cssmapi.StatusAuthorized {
		t.Fatalf("satellite authorize: %+v", auth)
	}
	// An account of the satellite's own stays on the satellite.
	l.sat.must(l.sat.portal.CreateAccount("Local", "Lab"))
	local, err := l.sat.portal.CreateToken("Lab", TokenOptions{ExpiresDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	lid, lcred := l.sat.register(strings.TrimSpace(local), 3)
	l.sat.authorize(lid, lcred, &auth, cssmapi.Usage{Tag: tag("Enhanced"), Count: 7})
	l.sync()
	if b := balanceOf(t, l.parent.portal, "TAC", "Enhanced"); b.InUse != 4 || b.Balance() != 6 {
		t.Fatalf("parent after the satellite's usage went up: %+v", b)
	}
	if u, _ := l.parent.portal.Usage("TAC"); u.Instances != 1 {
		t.Fatalf("parent counts %d instances, want the satellite's 1", u.Instances)
	}
	sats, err := l.parent.portal.Satellites()
	if err != nil || len(sats) != 1 || sats[0].Instances != 1 || sats[0].Status != "Synchronized" {
		t.Fatalf("satellites: %+v %v", sats, err)
	}

	pid, pcred := l.parent.register(l.parent.token(TokenOptions{}), 2)
	l.parent.authorize(pid, pcred, &auth, cssmapi.Usage{Tag: tag("Enhanced"), Count: 5})
	l.sync()
	if b := balanceOf(t, l.sat.portal, "TAC", "Enhanced"); b.Purchased != 5 || b.InUse != 4 || b.Balance() != 1 {
		t.Fatalf("satellite pool after the parent used 5: %+v", b)
	}
}

// A revocation on the parent removes the instance from the satellite.
func TestSatelliteRevocationComesDown(t *testing.T) {
	l := newSatLab(t)
	l.sync()
	id, _ := l.sat.register(l.sat.token(TokenOptions{}), 1)
	l.sync()
	l.parent.must(l.parent.portal.RevokeSatelliteInstance("branch", id))
	l.sync()
	if l.sat.store.View(func(st *State) error {
		if st.instance(id) != nil {
			t.Error("the revoked instance is still on the satellite")
		}
		return nil
	}) != nil {
		t.Fatal("view")
	}
	l.sync() // the parent saw it gone: nothing is pending any more
	sats, _ := l.parent.portal.Satellites()
	if sats[0].Instances != 0 {
		t.Fatalf("parent still lists the instance: %+v", sats)
	}
}

// Every refused file leaves both stores as they were and says why.
func TestSyncFilesTamperedReplayedOrMisaddressedAreRefused(t *testing.T) {
	l := newSatLab(t)
	l.sync()
	old, err := l.sat.portal.ExportSync()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.parent.portal.ImportSync(old); err != nil {
		t.Fatal(err)
	}
	l.sat.register(l.sat.token(TokenOptions{}), 1)
	up, err := l.sat.portal.ExportSync()
	if err != nil {
		t.Fatal(err)
	}

	// Another satellite: its own key, registered with the parent; and one the
	// parent does not know; and another parent with its own key.
	other := newSatLab(t)
	l.parent.must(l.parent.portal.AddSatellite("other", other.publicKey(other.sat.store), []string{"TAC"}))
	parentKey, _ := l.parent.store.SigningKey()
	otherUp := resign(t, mustExport(t, other.sat.portal), other.sat.store, func(m *syncMessage) {
		m.Satellite, m.Parent = "branch", keyFingerprint(&parentKey.PublicKey)
	})
	strangerUp := mustExport(t, other.sat.portal) // "branch" of another parent

	reply, err := l.parent.portal.ImportSync(up)
	if err != nil {
		t.Fatal(err)
	}
	tampered := tamper(t, up, func(m *syncMessage) { m.Instances[0].Usage = map[string]int{tag("CUWL"): 1000} })
	parentRefusals := []struct {
		name, file, want string
	}{
		{"tampered", string(tampered), "not signed by satellite \"branch\""},
		{"garbage", "{not json", "not a valid cssm sync file"},
		{"replayed", string(old), "already accepted number"},
		{"from another satellite", string(otherUp), "not signed by satellite \"branch\""},
		{"for another parent", string(strangerUp), "for another parent"},
	}
	for _, c := range parentRefusals {
		before := storeDump(t, l.parent.store)
		_, err := l.parent.portal.ImportSync([]byte(c.file))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "nothing was applied") {
			t.Errorf("%s: %v, want a refusal saying %q", c.name, err, c.want)
		}
		if !bytes.Equal(before, storeDump(t, l.parent.store)) {
			t.Errorf("%s: the parent's store changed", c.name)
		}
	}

	otherReply, err := other.parent.portal.ImportSync(mustExport(t, other.sat.portal))
	if err != nil {
		t.Fatal(err)
	}
	satRefusals := []struct {
		name string
		file []byte
		want string
	}{
		{"tampered reply", tamper(t, reply, func(m *syncMessage) { m.Accounts[0].Licenses[0].Count = 1000 }), "not signed by this satellite's parent"},
		{"reply from another parent", otherReply, "not signed by this satellite's parent"},
		{"reply for another satellite", resign(t, reply, l.parent.store, func(m *syncMessage) { m.Satellite = "other" }), "for satellite \"other\""},
		{"a satellite's file", up, "not a parent's reply"},
	}
	for _, c := range satRefusals {
		before := storeDump(t, l.sat.store)
		_, err := l.sat.portal.ApplySync(c.file)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a refusal saying %q", c.name, err, c.want)
		}
		if !bytes.Equal(before, storeDump(t, l.sat.store)) {
			t.Errorf("%s: the satellite's store changed", c.name)
		}
	}
	if _, err := l.sat.portal.ApplySync(reply); err != nil {
		t.Fatal(err)
	}
	before := storeDump(t, l.sat.store)
	if _, err := l.sat.portal.ApplySync(reply); err == nil || !strings.Contains(err.Error(), "already been applied") {
		t.Errorf("replayed reply: %v", err)
	}
	if !bytes.Equal(before, storeDump(t, l.sat.store)) {
		t.Error("a replayed reply changed the satellite's store")
	}
}

// The newest file sent again (a connected satellite whose answer was lost)
// gets the same reply and changes nothing.
func TestTheNewestSyncFileAgainGetsTheSameReply(t *testing.T) {
	l := newSatLab(t)
	up := mustExport(t, l.sat.portal)
	first, err := l.parent.portal.ImportSync(up)
	if err != nil {
		t.Fatal(err)
	}
	before := storeDump(t, l.parent.store)
	again, err := l.parent.portal.ImportSync(up)
	if err != nil || !bytes.Equal(first, again) || !bytes.Equal(before, storeDump(t, l.parent.store)) {
		t.Fatalf("again: %v, same reply %v", err, bytes.Equal(first, again))
	}
}

// 30 days without a sync raise "synchronization overdue" on both sides; at 90
// days the parent removes the satellite and its usage, while the satellite
// keeps serving its node.
func TestSatelliteTimers(t *testing.T) {
	l := newSatLab(t)
	l.sync()
	id, cred := l.sat.register(l.sat.token(TokenOptions{}), 1)
	var auth cssmapi.AuthorizeResponse
	l.sat.authorize(id, cred, &auth, cssmapi.Usage{Tag: tag("Enhanced"), Count: 3})
	l.sync()

	day := 24 * time.Hour
	l.parent.clock.Add(30*day - time.Second)
	l.sat.clock.Add(30*day - time.Second)
	if a, _ := l.parent.portal.SatelliteAlerts(); len(a) != 0 {
		t.Fatalf("alerts before 30 days: %+v", a)
	}
	l.parent.clock.Add(time.Second)
	l.sat.clock.Add(time.Second)
	for name, p := range map[string]*Portal{"parent": l.parent.portal, "satellite": l.sat.portal} {
		a, err := p.SatelliteAlerts()
		if err != nil || len(a) != 1 || a[0].Message != AlertSyncOverdue || a[0].Satellite != "branch" {
			t.Fatalf("%s alerts at 30 days: %+v %v", name, a, err)
		}
	}
	if b := balanceOf(t, l.parent.portal, "TAC", "Enhanced"); b.InUse != 3 {
		t.Fatalf("parent at 30 days: %+v", b)
	}

	l.parent.clock.Add(60 * day)
	l.sat.clock.Add(60 * day)
	// Compliance leaves the satellite's usage out from day 90, before any
	// satellite operation has removed it.
	if b := balanceOf(t, l.parent.portal, "TAC", "Enhanced"); b.InUse != 0 {
		t.Fatalf("parent at 90 days, before the removal: %+v", b)
	}
	a, _ := l.parent.portal.SatelliteAlerts()
	if len(a) != 1 || a[0].Message != AlertSatelliteRemoved {
		t.Fatalf("parent alerts at 90 days: %+v", a)
	}
	if b := balanceOf(t, l.parent.portal, "TAC", "Enhanced"); b.InUse != 0 {
		t.Fatalf("parent still counts the removed satellite's usage: %+v", b)
	}
	// The satellite answers its node itself.
	l.sat.authorize(id, cred, &auth, cssmapi.Usage{Tag: tag("Enhanced"), Count: 3})
	if auth.Status != cssmapi.StatusAuthorized {
		t.Fatalf("satellite authorize at 90 days: %+v", auth)
	}
	before := storeDump(t, l.parent.store)
	if _, err := l.parent.portal.ImportSync(mustExport(t, l.sat.portal)); err == nil || !strings.Contains(err.Error(), "was removed") {
		t.Fatalf("a removed satellite's file: %v", err)
	}
	if !bytes.Equal(before, storeDump(t, l.parent.store)) {
		t.Fatal("a removed satellite's file changed the parent")
	}
	// Registered again, it syncs afresh and its node counts again.
	l.parent.must(l.parent.portal.AddSatellite("branch", l.publicKey(l.sat.store), []string{"TAC"}))
	l.sync()
	if b := balanceOf(t, l.parent.portal, "TAC", "Enhanced"); b.InUse != 3 {
		t.Fatalf("parent after the satellite registered again: %+v", b)
	}
}

// Connected: the parent's POST PathSatelliteSync; the satellite syncs on demand.
func TestConnectedSatelliteSyncsOverHTTP(t *testing.T) {
	l := newSatLab(t)
	parent := httptest.NewServer(syncHandler(l.parent.portal, http.NotFoundHandler()))
	t.Cleanup(parent.Close)
	if _, err := l.sat.portal.SyncNow(context.Background(), http.DefaultClient); err == nil || !strings.Contains(err.Error(), "no parent URL") {
		t.Fatalf("without a URL: %v", err)
	}
	if err := l.sat.portal.SetParentURL("127.0.0.1:18450"); err == nil || !strings.Contains(err.Error(), "not the parent's URL") {
		t.Fatalf("a URL without a scheme: %v", err)
	}
	l.sat.must("", l.sat.portal.SetParentURL(parent.URL))
	msg, err := l.sat.portal.SyncNow(context.Background(), http.DefaultClient)
	if err != nil || !strings.Contains(msg, "1 virtual account updated") {
		t.Fatalf("sync: %q %v", msg, err)
	}
	// A file from an unregistered sender is refused over HTTP too.
	stranger := newSatLab(t)
	resp, err := http.Post(parent.URL+PathSatelliteSync, "application/json", bytes.NewReader(mustExport(t, stranger.sat.portal)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("stranger: %d", resp.StatusCode)
	}
	resp, err = http.Post(parent.URL+PathSatelliteSync, "text/plain", bytes.NewReader(mustExport(t, l.sat.portal)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("a form post: %d", resp.StatusCode)
	}
}

func mustExport(t *testing.T, p *Portal) []byte {
	t.Helper()
	up, err := p.ExportSync()
	if err != nil {
		t.Fatal(err)
	}
	return up
}

// tamper changes a file's message and keeps its old signature.
func tamper(t *testing.T, file []byte, change func(*syncMessage)) []byte {
	t.Helper()
	var env syncEnvelope
	var m syncMessage
	if json.Unmarshal(file, &env) != nil || json.Unmarshal(env.Body, &m) != nil {
		t.Fatal("cannot read the file")
	}
	change(&m)
	env.Body, _ = json.Marshal(&m)
	out, _ := json.Marshal(&env)
	return out
}

// resign changes a file's message and signs it again with s's key.
func resign(t *testing.T, file []byte, s *Store, change func(*syncMessage)) []byte {
	t.Helper()
	var env syncEnvelope
	var m syncMessage
	if json.Unmarshal(file, &env) != nil || json.Unmarshal(env.Body, &m) != nil {
		t.Fatal("cannot read the file")
	}
	change(&m)
	key, err := s.SigningKey()
	if err != nil {
		t.Fatal(err)
	}
	out, err := signSync(key, &m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func FuzzDecodeSyncFile(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/sync/*.json")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"format":"ucmsh-cssm-sync/1","body":"e30=","signature":""}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		env, m, err := decodeSyncFile(data)
		if err != nil {
			if env != nil || m != nil {
				t.Fatal("an error with a result")
			}
			return
		}
		if m.Seq < 1 || m.Satellite == "" || (m.Kind != syncUp && m.Kind != syncDown) {
			t.Fatalf("accepted %+v", m)
		}
	})
}

// `cssm serve --satellite-of URL` syncs by itself at start: the parent's
// account arrives on the satellite without a command.
func TestServeAsSatelliteSyncsAtStart(t *testing.T) {
	l := newSatLab(t)
	parent := httptest.NewServer(syncHandler(l.parent.portal, http.NotFoundHandler()))
	t.Cleanup(parent.Close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, l.sat.store, l.sat.clock, ServeConfig{Listen: "127.0.0.1:0", SatelliteOf: parent.URL, SyncEvery: time.Hour})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var found bool
		l.sat.store.View(func(st *State) error { _, va := st.findVA("TAC"); found = va != nil; return nil })
		if found {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the satellite did not sync within 30 s of starting")
		}
		time.Sleep(20 * time.Millisecond) // polling a result, not synchronising
	}
}

// Licences a satellite reserves for an air-gapped node are in use for the
// parent too, so the parent never gives them out again.
func TestSatelliteReservationsCountAtTheParent(t *testing.T) {
	l := newSatLab(t)
	l.sync()
	n := l.sat.node("6fe83addc80240bc92dc071ac7a00001")
	l.sat.lab.reserve(n.requestCode(), "Enhanced=3")
	l.sync()
	if b := balanceOf(t, l.parent.portal, "TAC", "Enhanced"); b.InUse != 3 || b.Balance() != 7 {
		t.Fatalf("parent after the satellite reserved 3: %+v", b)
	}
	if b := balanceOf(t, l.sat.portal, "TAC", "Enhanced"); b.Purchased != 10 || b.Reserved != 3 {
		t.Fatalf("satellite after the sync: %+v", b)
	}
}
