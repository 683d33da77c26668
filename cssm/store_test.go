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
	s, err := Open(dir)
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
				if s, err = Open(l.store.Dir()); err != nil {
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
		s, err := Open(dir)
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
	os.Exit(m.Run())
}

func TestConcurrentUpdatesFromProcessesAreNeverLost(t *testing.T) {
	l := newLab(t)
	var children []*exec.Cmd
	for range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "CSSM_TEST_ADD_KEYS="+l.store.Dir()+":40")
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		children = append(children, cmd)
	}
	// Meanwhile this process updates through its long-lived, caching store, as
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
	portal, err := Open(l.store.Dir())
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
	serverAdd() // must start from the portal's save, not from its cached copy
	if got := exportKeys(t, l.store.Dir()); got != 3 {
		t.Fatalf("export keys = %d, want 3", got)
	}
}

func TestCorruptStoreIsReportedAndLeftAlone(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cssm.json")
	garbage := []byte(`{"version": 1, "smart_accounts": [`)
	if err := os.WriteFile(path, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := &Portal{Store: s, Clock: clock.Fixed(t0)}
	_, err = p.CreateAccount("BU", "TAC")
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("error = %v, want one naming %s as corrupt", err, path)
	}
	if _, err := p.Instances(""); err == nil {
		t.Fatal("listing a corrupt store succeeded")
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, garbage) {
		t.Fatalf("corrupt store was rewritten: %q", got)
	}
}

func TestStoreOfAnotherVersionIsRefused(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cssm.json"), []byte(`{"version": 2}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ := Open(dir)
	defer s.Close()
	err := s.View(func(*State) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "schema version 2") {
		t.Fatalf("error = %v, want a schema version complaint", err)
	}
}

func TestStoreFilesArePrivateAndTempFilesGone(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "state", "cssm")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := (&Portal{Store: s, Clock: clock.Fixed(t0)}).CreateAccount("BU", "TAC"); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{
		dir:                             os.ModeDir | 0o700,
		filepath.Join(root, "state"):    os.ModeDir | 0o700,
		filepath.Join(dir, "cssm.json"): 0o600,
		filepath.Join(dir, "cssm.lock"): 0o600,
	} {
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
	}
}

// The saved file must be exactly the state, whatever was reused from earlier saves.
func TestSavedFileIsTheStateAfterInPlaceChanges(t *testing.T) {
	l := newLab(t)
	l.addLicense("Enhanced", 10)
	tok := l.token(TokenOptions{MaxUses: 0, AllowExport: true})
	var id string
	if err := l.store.Update(func(st *State) error {
		for i := range 3 {
			r, err := st.Register(t0, regReq(tok, i))
			if err != nil {
				return err
			}
			id = r.InstanceID
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Change one instance in place, the way the API does, and save again.
	later := t0.Add(time.Hour)
	if err := l.store.Update(func(st *State) error {
		in := st.Instances[id]
		in.LastSeen = later
		st.setUsage(in, map[string]int{tag("Enhanced"): 4})
		st.holdExportKey(in, "CUCM_Export_Restricted_Authorization_Key")
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	var want []byte
	if err := l.store.View(func(st *State) error {
		var err error
		want, err = json.Marshal(st)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(l.store.Path())
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := decodeState(l.store.Path(), data)
	if err != nil {
		t.Fatalf("saved file does not load: %v\n%s", err, data)
	}
	got, _ := json.Marshal(fresh)
	if !bytes.Equal(got, want) {
		t.Fatalf("saved file differs from the state:\n got %s\nwant %s", got, want)
	}
	if in := fresh.Instances[id]; !in.LastSeen.Equal(later) || in.Usage[tag("Enhanced")] != 4 || len(in.ExportKeys) != 1 {
		t.Fatalf("in-place change not saved: %+v", in)
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
