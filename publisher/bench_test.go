package publisher

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/internal/clock"
)

// Micro-benchmarks of the store (bench/README.md lists the figures). Run
// with: go test -run '^$' -bench . -benchmem ./publisher

// fullTrace is a service on a fresh folder whose state holds a full trace
// (maxEvents events): the largest state.json a node normally keeps.
func fullTrace(b *testing.B) *Service {
	b.Helper()
	s := serviceAtB(b, b.TempDir(), t0, inUse)
	for i := 0; len(mustState(b, s).Events) < maxEvents; i++ {
		if err := s.ReservationEnable(); err != nil {
			b.Fatal(err)
		}
		if err := s.ReservationDisable(); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

func serviceAtB(b *testing.B, dir string, now time.Time, usage map[string]int) *Service {
	b.Helper()
	store, err := OpenStore(dir)
	if err != nil {
		b.Fatal(err)
	}
	return NewService(store, clock.Fixed(now), lab(usage))
}

func mustState(b *testing.B, s *Service) *State {
	b.Helper()
	var cp *State
	if err := s.store.View(func(st *State) error { cp = st; return nil }); err != nil {
		b.Fatal(err)
	}
	return cp
}

// BenchmarkLoadDecode reads and decodes state.json as a process's first
// transaction does (nothing cached).
func BenchmarkLoadDecode(b *testing.B) {
	s := fullTrace(b)
	data, err := os.ReadFile(s.store.Path())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		fresh := &Store{dir: s.store.Dir()}
		if err := fresh.View(func(*State) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkViewCached is a read transaction on an unchanged file: lock,
// read, compare with the cache, deep copy.
func BenchmarkViewCached(b *testing.B) {
	s := fullTrace(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.store.View(func(*State) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReport is one Report (an update transaction that changes
// nothing, and the report model).
func BenchmarkReport(b *testing.B) {
	s := fullTrace(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Report(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunDue is the check every licensing command makes first.
func BenchmarkRunDue(b *testing.B) {
	s := fullTrace(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.RunDue(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSave is one durable state change: encode, temp file, fsync,
// rename, fsync of the folder.
func BenchmarkSave(b *testing.B) {
	s := fullTrace(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		var err error
		if i%2 == 0 {
			err = s.ReservationEnable()
		} else {
			err = s.ReservationDisable()
		}
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkSaveNoSync is BenchmarkSave's transaction with the two fsyncs
// left out. It is not the product path (Update always syncs, through
// writeAtomic): it only shows, by difference, what durability costs on
// this disk.
func BenchmarkSaveNoSync(b *testing.B) {
	s := fullTrace(b)
	store := s.store
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		unlock, err := store.acquire()
		if err != nil {
			b.Fatal(err)
		}
		st, _, err := store.load()
		if err != nil {
			b.Fatal(err)
		}
		if i%2 == 0 {
			st.Reservation = &ReservationState{}
			st.logEvent(t0, "License reservation mode enabled")
		} else {
			st.Reservation = nil
			st.logEvent(t0, "License reservation mode disabled")
		}
		data, err := encodeState(st)
		if err != nil {
			b.Fatal(err)
		}
		if err := writeNoSync(store.Path(), data); err != nil {
			b.Fatal(err)
		}
		store.cache = &cachedState{data: data, st: cloneState(st), canonical: true} // as Update does
		unlock()
		i++
	}
}

// writeNoSync is writeAtomic without its fsyncs: for BenchmarkSaveNoSync
// only. Never use it for state.
func writeNoSync(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), path)
}
