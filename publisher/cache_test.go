package publisher

import (
	"errors"
	"os"
	"reflect"
	"testing"
	"time"
)

// fill sets every exported field reachable from v to a non-zero value:
// pointers point somewhere, slices and maps hold two elements.
func fill(t *testing.T, v reflect.Value, seed *int) {
	*seed++
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(t, p.Elem(), seed)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(t, s.Index(i), seed)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range 2 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(t, k, seed)
			fill(t, e, seed)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(t0.Add(time.Duration(*seed) * time.Second)))
			return
		}
		for i := range v.NumField() {
			if !v.Type().Field(i).IsExported() {
				t.Fatalf("%s has an unexported field %s: deepCopy would share it", v.Type(), v.Type().Field(i).Name)
			}
			fill(t, v.Field(i), seed)
		}
	case reflect.String:
		v.SetString("s" + itoa(*seed))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(*seed))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(*seed))
	default:
		t.Fatalf("fill: add a case for %s", v.Type())
	}
}

// shared finds memory that a and b share: the same pointer, slice array
// or map.
func shared(a, b reflect.Value, path string) string {
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() {
			return ""
		}
		if a.Pointer() == b.Pointer() {
			return path
		}
		return shared(a.Elem(), b.Elem(), path)
	case reflect.Slice:
		if a.Len() > 0 && a.Pointer() == b.Pointer() {
			return path
		}
		for i := range a.Len() {
			if p := shared(a.Index(i), b.Index(i), path+"["+itoa(i)+"]"); p != "" {
				return p
			}
		}
	case reflect.Map:
		if !a.IsNil() && a.Pointer() == b.Pointer() {
			return path
		}
	case reflect.Struct:
		if a.Type() == reflect.TypeFor[time.Time]() {
			return ""
		}
		for i := range a.NumField() {
			if p := shared(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); p != "" {
				return p
			}
		}
	}
	return ""
}

// The store hands each transaction a deep copy of its cached state: a copy
// that shares nothing, whatever fields State gains.
func TestCloneStateIsDeep(t *testing.T) {
	var st State
	seed := 0
	fill(t, reflect.ValueOf(&st).Elem(), &seed)
	cp := cloneState(&st)
	if !reflect.DeepEqual(cp, &st) {
		t.Fatal("the copy differs")
	}
	if p := shared(reflect.ValueOf(cp).Elem(), reflect.ValueOf(&st).Elem(), "State"); p != "" {
		t.Fatalf("the copy shares %s", p)
	}
	if !sameState(cp, &st) {
		t.Fatal("sameState: a copy is not the same")
	}
	// Any change is seen: change each leaf of the copy in turn.
	var leaves []reflect.Value
	var collect func(v reflect.Value)
	collect = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			collect(v.Elem())
		case reflect.Slice:
			for i := range v.Len() {
				collect(v.Index(i))
			}
		case reflect.Struct:
			if v.Type() == reflect.TypeFor[time.Time]() {
				leaves = append(leaves, v)
				return
			}
			for i := range v.NumField() {
				collect(v.Field(i))
			}
		case reflect.Map:
			leaves = append(leaves, v)
		default:
			leaves = append(leaves, v)
		}
	}
	collect(reflect.ValueOf(cp).Elem())
	for i, leaf := range leaves {
		old := reflect.New(leaf.Type()).Elem()
		old.Set(leaf)
		leaf.Set(reflect.Zero(leaf.Type()))
		if sameState(cp, &st) {
			t.Fatalf("leaf %d (%s) changed unseen", i, leaf.Type())
		}
		leaf.Set(old)
	}
	if !sameState(cp, &st) {
		t.Fatal("restored copy is not the same")
	}
}

// The cache never hides another writer's change, and a transaction that
// fails or is changed afterwards leaves nothing behind.
func TestStoreCacheFollowsTheFile(t *testing.T) {
	dir := t.TempDir()
	a, _ := OpenStore(dir)
	b, _ := OpenStore(dir)
	bump(t, a, "one")
	var kept *State
	if err := a.View(func(st *State) error { kept = st; return nil }); err != nil {
		t.Fatal(err)
	}
	kept.Events[0].Text = "scribbled on a handed-out copy"
	bump(t, b, "two") // another process, as far as a's cache knows

	events := func(s *Store) []string {
		var out []string
		if err := s.View(func(st *State) error {
			for _, e := range st.Events {
				out = append(out, e.Text)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := events(a); !reflect.DeepEqual(got, []string{"one", "two"}) {
		t.Fatalf("a sees %q", got)
	}
	boom := errors.New("boom")
	err := a.Update(func(st *State) error {
		st.logEvent(t0, "half-done")
		st.Registration = &RegistrationState{InstanceID: "x"}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if got := events(a); !reflect.DeepEqual(got, []string{"one", "two"}) {
		t.Fatalf("a failed update left %q", got)
	}

	// A file not written by this build (here: compact JSON) is rewritten by
	// the next update, as before the cache, even if nothing changed.
	path := a.Path()
	compact := []byte(`{"version":1,"identity":{"uuid":"6fe83addc80240bc92dc071ac7a37624"},"created":"2026-11-01T10:00:00Z","evaluation":{"used_ns":0},"transport":{}}`)
	if err := os.WriteFile(path, compact, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := a.Update(func(*State) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) == string(compact) {
		t.Fatal("a non-canonical file was not rewritten")
	}
	var canonical []byte
	canonical, _ = os.ReadFile(path)
	info, _ := os.Stat(path)
	if err := a.Update(func(*State) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if info2, _ := os.Stat(path); !os.SameFile(info, info2) {
		t.Fatal("an update that changed nothing wrote the file")
	}
	if got, _ := os.ReadFile(path); string(got) != string(canonical) {
		t.Fatal("file changed")
	}
}
