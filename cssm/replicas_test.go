package cssm

import (
	"database/sql"
	"encoding/json"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/ucmsh/ucmsh/cssmapi"
)

// replica is one more `cssm serve` on the lab's database (on SQLite: another
// process's connection to the same file; on PostgreSQL: another replica).
func (a *api) replica() *api {
	a.t.Helper()
	store, err := openStore(a.t, a.store.Dir())
	if err != nil {
		a.t.Fatal(err)
	}
	srv := NewServer(store, a.clock, nil)
	ts := httptest.NewServer(srv)
	a.t.Cleanup(func() { ts.Close(); srv.Close(); store.Close() })
	return &api{lab: &lab{t: a.t, store: store, clock: a.clock, portal: &Portal{Store: store, Clock: a.clock}}, url: ts.URL}
}

// Two replicas take registrations at once, half of the products on both:
// every product ends up with exactly one instance, the single-use token
// registers one product, the export key pool gives exactly what it has, and
// the aggregates equal the sums over the instances.
func TestTwoReplicasTakingConcurrentRegistrations(t *testing.T) {
	a := newAPI(t)
	b := a.replica()
	a.addLicense("Enhanced", 50)
	a.store.Update(func(st *State) error { _, va := st.findVA("TAC"); va.ExportKeys = 3; return nil })
	tok := a.token(TokenOptions{AllowExport: true})
	once := a.token(TokenOptions{MaxUses: 1})
	replicas := []*api{a, b}

	const products = 40
	var wg sync.WaitGroup
	var mu sync.Mutex
	creds := map[string]string{} // instance id -> credential, of the answers seen
	for n := range products {
		for r := range 1 + n%2 { // odd products register on both replicas
			wg.Go(func() {
				ans := replicas[(n+r)%2].send(cssmapi.PathRegister, cssmapi.NewIdempotencyKey(), "", regReq(tok, n))
				if ans.status != 200 {
					t.Errorf("register %d: %d %s", n, ans.status, ans.body)
					return
				}
				var reg cssmapi.RegisterResponse
				json.Unmarshal(ans.body, &reg)
				mu.Lock()
				creds[reg.InstanceID] = reg.Credential
				mu.Unlock()
			})
		}
	}
	onceOK := 0
	for n := range 10 {
		wg.Go(func() {
			ans := replicas[n%2].send(cssmapi.PathRegister, cssmapi.NewIdempotencyKey(), "", regReq(once, 100+n))
			mu.Lock()
			defer mu.Unlock()
			if ans.status == 200 {
				onceOK++
			}
		})
	}
	wg.Wait()
	if onceOK != 1 {
		t.Fatalf("the single-use token registered %d products", onceOK)
	}

	// Every surviving instance reports usage and asks for an export key, on
	// either replica.
	var ids []string
	a.store.View(func(st *State) error {
		for _, in := range st.listInstances("TAC", InstanceCursor{}, 1000) {
			ids = append(ids, in.ID)
		}
		return nil
	})
	if len(ids) != products+1 {
		t.Fatalf("%d instances, want %d (one per product, none lost, none twice)", len(ids), products+1)
	}
	granted := 0
	for i, id := range ids {
		cred, ok := creds[id]
		if !ok {
			continue // the single-use token's product
		}
		wg.Go(func() {
			r := replicas[i%2]
			if ans := r.send(cssmapi.PathAuthorize, cssmapi.NewIdempotencyKey(), cred, cssmapi.AuthorizeRequest{InstanceID: id, Usage: []cssmapi.Usage{{Tag: tag("Enhanced"), Count: 1}}}); ans.status != 200 {
				t.Errorf("authorize: %d %s", ans.status, ans.body)
			}
			ans := r.send(cssmapi.PathExportRequest, cssmapi.NewIdempotencyKey(), cred, cssmapi.ExportRequest{InstanceID: id, Feature: cssmapi.ExportFeature})
			mu.Lock()
			defer mu.Unlock()
			if ans.status == 200 {
				granted++
			}
		})
	}
	wg.Wait()
	if granted != 3 {
		t.Fatalf("%d export keys granted from a pool of 3", granted)
	}
	u, err := b.portal.Usage("TAC")
	if err != nil {
		t.Fatal(err)
	}
	inUse := 0
	for _, bal := range u.Balances {
		if bal.Tag == tag("Enhanced") {
			inUse = bal.InUse
		}
	}
	if u.Instances != products+1 || u.ExportKeysHeld != 3 || inUse != products {
		t.Fatalf("usage: %d instances, %d export keys held, %d Enhanced in use; want %d, 3, %d", u.Instances, u.ExportKeysHeld, inUse, products+1, products)
	}
	if n, uses := a.counts(once); uses != 1 || n != products+1 {
		t.Fatalf("single-use token used %d times", uses)
	}
}

// PostgreSQL: connections that the server dropped (a restart, a failover)
// are replaced; the next call works.
func TestReconnectsAfterTheDatabaseDroppedItsConnections(t *testing.T) {
	if testDatabase == "" {
		t.Skip("PostgreSQL only (CSSM_TEST_DATABASE); SQLite has no connections to lose")
	}
	a := newAPI(t)
	tok := a.token(TokenOptions{})
	a.register(tok, 1)
	admin, err := sql.Open("pgx", testDatabase)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var killed int
	if err := admin.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed == 0 {
		t.Fatal("no connection of the store to drop")
	}
	// Every pooled connection is dead; each call still works, on a new one.
	for n := 2; n < 5; n++ {
		if status, out := a.post(cssmapi.PathRegister, "", regReq(tok, n)); status != 200 {
			t.Fatalf("register %d after the connections were dropped: %d %v", n, status, out)
		}
		status, out := a.restJSON("GET", onPrem+"/virtual-accounts/TAC/tokens", a.accessToken(), nil)
		if status != 200 {
			t.Fatalf("a read after the connections were dropped: %d %v", status, out)
		}
	}
}
