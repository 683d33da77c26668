package cssm

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// A backup taken while products register is one consistent moment: opened as
// a store, its aggregates equal its rows.
func TestBackupWhileServing(t *testing.T) {
	sqliteOnly(t)
	a := newAPI(t)
	a.addLicense("Enhanced", 5)
	tok := a.token(TokenOptions{})
	a.register(tok, 99999) // one before the first backup, however the goroutine is scheduled
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			a.register(tok, n)
		}
	})
	out := filepath.Join(t.TempDir(), "copy")
	os.MkdirAll(out, 0o700)
	for range 3 {
		if err := a.store.Backup(filepath.Join(out, dbFile)); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	fi, err := os.Stat(filepath.Join(out, dbFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", fi, err)
	}
	restored, err := Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	restored.View(func(st *State) error {
		rows := st.countInstances()
		if got := st.totals("TAC").Instances; got != rows || rows == 0 {
			t.Fatalf("backup: %d instance rows, aggregate says %d", rows, got)
		}
		if st.token(tok).Uses != rows {
			t.Fatalf("backup: token used %d times, %d instances", st.token(tok).Uses, rows)
		}
		return nil
	})
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".db" && e.Name() != "cssm.lock" && e.Name() != "cssm.db-wal" && e.Name() != "cssm.db-shm" {
			t.Errorf("left in the backup folder: %s", e.Name())
		}
	}
}
