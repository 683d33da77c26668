package cssm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
	"github.com/ucmsh/ucmsh/internal/clock"
)

// addKey is the smallest read-modify-write there is: one more export key.
func addKey(s *Store) error {
	return s.Update(func(st *State) error {
		_, va := st.findVA("TAC")
		va.ExportKeys++
		return nil
	})
}

func exportKeys(t *testing.T, dir string) int {
	t.Helper()
	s, err := openStore(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := -1
	if err := s.View(func(st *State) error {
		_, va := st.findVA("TAC")
		n = va.ExportKeys
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestConcurrentUpdatesFromGoroutinesAreNeverLost(t *testing.T) {
	l := newLab(t)
	var wg sync.WaitGroup
	// Half share the lab's store (in-process mutex), half open their own (flock).
	for g := range 8 {
		wg.Go(func() {
			s := l.store
			if g%2 == 1 {
				var err error
				if s, err = openStore(t, l.store.Dir()); err != nil {
					t.Error(err)
					return
				}
				defer s.Close()
			}
			for range 25 {
				if err := addKey(s); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if got := exportKeys(t, l.store.Dir()); got != 200 {
		t.Fatalf("export keys = %d after 200 concurrent additions", got)
	}
}

// The test binary doubles as a second cssm process: with CSSM_TEST_ADD_KEYS=dir:n
// it adds n export keys to dir's store and exits.
func TestMain(m *testing.M) {
	if spec := os.Getenv("CSSM_TEST_ADD_KEYS"); spec != "" {
		dir, n, _ := strings.Cut(spec, ":")
		count, _ := strconv.Atoi(n)
		s, err := OpenDatabase(dir, os.Getenv("CSSM_TEST_ADD_KEYS_DB"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for range count {
			if err := addKey(s); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
		os.Exit(0)
	}
	if dir := os.Getenv("CSSM_TEST_SERVE"); dir != "" {
		os.Exit(serveChild(dir, os.Getenv("CSSM_TEST_SERVE_DB")))
	}
	os.Exit(m.Run())
}

func TestConcurrentUpdatesFromProcessesAreNeverLost(t *testing.T) {
	l := newLab(t)
	var children []*exec.Cmd
	for range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "CSSM_TEST_ADD_KEYS="+l.store.Dir()+":40", "CSSM_TEST_ADD_KEYS_DB="+specFor(t, l.store.Dir()))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		children = append(children, cmd)
	}
	// Meanwhile this process updates through its long-lived store, as
	// `cssm serve` does while portal commands run.
	for range 40 {
		if err := addKey(l.store); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range children {
		if err := c.Wait(); err != nil {
			t.Fatalf("child process: %v", err)
		}
	}
	if got := exportKeys(t, l.store.Dir()); got != 160 {
		t.Fatalf("export keys = %d after 4 processes added 40 each", got)
	}
}

func TestServerBatchSeesPortalChanges(t *testing.T) {
	l := newLab(t)
	portal, err := openStore(t, l.store.Dir())
	if err != nil {
		t.Fatal(err)
	}
	defer portal.Close()
	serverAdd := func() {
		if err := l.store.apply(func(st *State) bool {
			_, va := st.findVA("TAC")
			va.ExportKeys++
			return true
		}); err != nil {
			t.Fatal(err)
		}
	}
	serverAdd()
	if err := addKey(portal); err != nil {
		t.Fatal(err)
	}
	serverAdd() // must start from the portal's commit
	if got := exportKeys(t, l.store.Dir()); got != 3 {
		t.Fatalf("export keys = %d, want 3", got)
	}
}

func TestCorruptOldStoreIsReportedAndLeftAlone(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cssm.json")
	garbage := []byte(`{"version": 1, "smart_accounts": [`)
	if err := os.WriteFile(path, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := openStore(t, dir)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("error = %v, want one naming %s as corrupt", err, path)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, garbage) {
		t.Fatalf("corrupt store was rewritten: %q", got)
	}
}

func TestOldStoreOfAnotherVersionIsRefused(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cssm.json"), []byte(`{"version": 2}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := openStore(t, dir); err == nil || !strings.Contains(err.Error(), "schema version 2") {
		t.Fatalf("error = %v, want a schema version complaint", err)
	}
}

func TestDatabaseOfANewerSchemaIsRefused(t *testing.T) {
	dir := t.TempDir()
	s, err := openStore(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Update(func(st *State) error {
		st.tx.exec(`UPDATE meta SET v = '99' WHERE k = 'schema_version'`)
		return nil
	})
	s.Close()
	if _, err := openStore(t, dir); err == nil || !strings.Contains(err.Error(), "schema version 99") {
		t.Fatalf("error = %v, want a schema version complaint", err)
	}
}

func TestStoreFilesArePrivateAndTempFilesGone(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "state", "cssm")
	s, err := openStore(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := (&Portal{Store: s, Clock: clock.Fixed(t0)}).CreateAccount("BU", "TAC"); err != nil {
		t.Fatal(err)
	}
	files := map[string]os.FileMode{
		dir:                             os.ModeDir | 0o700,
		filepath.Join(root, "state"):    os.ModeDir | 0o700,
		filepath.Join(dir, "cssm.lock"): 0o600,
	}
	if testDatabase == "" {
		files[filepath.Join(dir, "cssm.db")] = 0o600
	}
	for path, want := range files {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode(), want)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
		if fi, _ := e.Info(); fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s: mode %v", e.Name(), fi.Mode())
		}
	}
}

// A store written by the cssm before the database (cssm.json) is imported on
// the first start, whole, and kept as cssm.json.imported.
func TestOldStoreIsImportedOnFirstStart(t *testing.T) {
	dir := t.TempDir()
	res := &Reservation{Codes: []IssuedCode{{Code: "x", Timestamp: t0, Licenses: []ReservedLicense{{Tag: tag("Basic"), Count: 2, Type: Perpetual}}}}}
	old := jsonState{
		Version: 1,
		SmartAccounts: []*SmartAccount{{Name: "BU", Created: t0, VirtualAccounts: []*VirtualAccount{
			{Name: "TAC", Created: t0, ExportKeys: 3, Licenses: []License{{Tag: tag("Enhanced"), Count: 10, Type: Perpetual, Added: t0}, {Tag: tag("Basic"), Count: 5, Type: Perpetual, Added: t0}}},
			{Name: "Lab", Created: t0, Licenses: []License{}},
		}}},
		Tokens: map[string]*Token{"tok": {VirtualAccount: "TAC", Created: t0, Expires: t0.AddDate(0, 1, 0), Uses: 2}},
		Instances: map[string]*Instance{
			"a": {ID: "a", UDI: udi(1), Hostname: "cucm-a", VirtualAccount: "TAC", Usage: map[string]int{tag("Enhanced"): 4}, ExportKeys: []string{cssmapi.ExportFeature}, Registered: t0},
			"b": {ID: "b", UDI: udi(2), Hostname: "cucm-b", VirtualAccount: "TAC", Usage: map[string]int{tag("Enhanced"): 3}, Registered: t0},
			"r": {ID: "r", UDI: udi(3), VirtualAccount: "TAC", Registered: t0, Reservation: res},
		},
		ReservationStamps: map[string]time.Time{udi(3): t0},
		Idempotency: map[string]*IdempotencyRecord{"key-of-a-lost-answer-1": {
			Path: cssmapi.PathRegister, RequestSHA256: "ab", Status: 200, Body: []byte(`{"ok":true}` + "\n"), Signature: "c2ln", Created: t0}},
	}
	data, _ := json.Marshal(old)
	os.WriteFile(filepath.Join(dir, "cssm.json"), data, 0o600)

	s, err := openStore(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(filepath.Join(dir, "cssm.json")); !os.IsNotExist(err) {
		t.Fatalf("cssm.json still in place after the import: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "cssm.json.imported")); !bytes.Equal(got, data) {
		t.Fatal("the old store is not kept as cssm.json.imported")
	}
	p := &Portal{Store: s, Clock: clock.Fixed(t0)}
	u, err := p.Usage("TAC")
	if err != nil {
		t.Fatal(err)
	}
	if u.SmartAccount != "BU" || u.Instances != 3 || u.ExportKeys != 3 || u.ExportKeysHeld != 1 {
		t.Fatalf("usage after import: %+v", u)
	}
	for _, b := range u.Balances {
		if b.Tag == tag("Enhanced") && b.InUse != 7 || b.Tag == tag("Basic") && b.Reserved != 2 {
			t.Fatalf("balance after import: %+v", b)
		}
	}
	list, _ := p.Instances("")
	if len(list) != 3 || list[0].Hostname != "" || list[1].Hostname != "cucm-a" {
		t.Fatalf("instances after import: %+v", list)
	}
	if _, err := p.Usage("Lab"); err != nil {
		t.Fatal(err)
	}
	s.View(func(st *State) error {
		if st.token("tok").Uses != 2 {
			t.Errorf("token after import: %+v", st.token("tok"))
		}
		if ts, _ := st.stamp(udi(3)); !ts.Equal(t0) {
			t.Errorf("reservation stamp after import: %v", ts)
		}
		if r := st.idempotencyRecord("key-of-a-lost-answer-1"); r == nil || string(r.Body) != `{"ok":true}`+"\n" || r.Signature != "c2ln" || !r.Created.Equal(t0) {
			t.Errorf("idempotency record after import: %+v", r)
		}
		return nil
	})
	// A second start imports nothing again, even if the old file comes back.
	os.WriteFile(filepath.Join(dir, "cssm.json"), data, 0o600)
	s2, err := openStore(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	if u, _ := p.Usage("TAC"); u.Instances != 3 {
		t.Fatalf("%d instances after a second start", u.Instances)
	}
}

func TestSameInstanceSeesEveryField(t *testing.T) {
	base := Instance{Usage: map[string]int{}, ExportKeys: []string{}}
	typ := reflect.TypeOf(base)
	for i := range typ.NumField() {
		changed := snapshot(&base)
		f := reflect.ValueOf(&changed).Elem().Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString("x")
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Struct: // time.Time
			f.Set(reflect.ValueOf(t0))
		case reflect.Map:
			f.Set(reflect.ValueOf(map[string]int{"x": 1}))
		case reflect.Slice:
			f.Set(reflect.ValueOf([]string{"x"}))
		case reflect.Pointer: // *Reservation
			f.Set(reflect.ValueOf(&Reservation{Codes: []IssuedCode{{Code: "x"}}}))
		default:
			t.Fatalf("field %s has a kind this test cannot change", typ.Field(i).Name)
		}
		if sameInstance(&base, &changed) {
			t.Errorf("sameInstance does not compare field %s", typ.Field(i).Name)
		}
	}
}

// A bug that panics inside a transaction (the HTTP server recovers it) must
// not leave the transaction open: on SQLite it would hold the write lock, and
// every later write would wait out busy_timeout and fail.
func TestPanicInATransactionRollsItBack(t *testing.T) {
	defer func(old int) { sqliteBusyTimeoutMS = old }(sqliteBusyTimeoutMS)
	sqliteBusyTimeoutMS = 200
	l := newLab(t)
	for _, write := range []bool{true, false} {
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("the panic did not reach the caller")
				}
			}()
			fn := func(st *State) error {
				_, va := st.findVA("TAC")
				va.ExportKeys++
				panic("a bug")
			}
			if write {
				l.store.Update(fn)
			} else {
				l.store.View(fn)
			}
		}()
	}
	if err := addKey(l.store); err != nil {
		t.Fatalf("the next write: %v", err)
	}
	other, err := openStore(t, l.store.Dir()) // another process's store
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := addKey(other); err != nil {
		t.Fatalf("another store's write: %v", err)
	}
	if got := exportKeys(t, l.store.Dir()); got != 2 {
		t.Fatalf("export keys = %d, want the 2 committed ones", got)
	}
}
