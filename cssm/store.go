package cssm

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/ucmsh/ucmsh/internal/atomicfile"

	"golang.org/x/sys/unix"
)

const (
	dbFile       = "cssm.db"
	stateFile    = "cssm.json"          // the store before the database; imported once
	importedFile = "cssm.json.imported" // cssm.json after its import, kept as a backup
	lockFile     = "cssm.lock"          // serializes key creation across processes
)

// Store is cssm's state: a database (SQLite in the store directory, or
// PostgreSQL) and the keys kept as files in the directory. Every operation is
// one database transaction; write transactions hold the database's write
// lock, so a `cssm serve` (or several, on PostgreSQL) and portal commands in
// other processes never lose each other's updates and see them at once.
type Store struct {
	dir string
	db  *database

	mu sync.Mutex // one write transaction at a time within this process
}

// Open opens the store in dir with its SQLite database, creating both if needed.
func Open(dir string) (*Store, error) { return OpenDatabase(dir, "") }

// OpenDatabase opens the store in dir (keys) on the database spec: "" or
// "sqlite" for dir/cssm.db, or a postgres:// URL. It brings the schema up to
// date and, on first start, imports dir/cssm.json (then renamed
// cssm.json.imported).
func OpenDatabase(dir, spec string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("the cssm store directory is empty; give --state DIR")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the cssm store directory %s: %w", abs, err)
	}
	s := &Store{dir: abs}
	// A cssm killed between writing a temporary file and renaming it left the
	// file behind; no writer can be at work on one while we hold the lock.
	if err := s.withLock(func() error {
		for _, name := range []string{stateFile, signingKeyFile, tlsCertFile, tlsKeyFile} {
			atomicfile.RemoveStale(filepath.Join(abs, name))
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if s.db, err = openDatabase(abs, spec); err != nil {
		return nil, err
	}
	if err := s.db.migrate(); err != nil {
		s.db.close()
		return nil, err
	}
	if err := s.importJSON(); err != nil {
		s.db.close()
		return nil, err
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.close() }

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

// Database says where the data is: the SQLite file or the PostgreSQL server.
func (s *Store) Database() string { return s.db.where }

// Update runs fn in a write transaction and commits if fn returns nil.
func (s *Store) Update(fn func(*State) error) error {
	var fnErr error
	err := s.transact(true, func(st *State) bool {
		fnErr = fn(st)
		return fnErr == nil
	})
	if fnErr != nil {
		return fnErr
	}
	return err
}

// View runs fn in a read-only transaction (a consistent snapshot).
func (s *Store) View(fn func(*State) error) error {
	var fnErr error
	err := s.transact(false, func(st *State) bool {
		fnErr = fn(st)
		return false
	})
	if err != nil {
		return err
	}
	return fnErr
}

// apply is the server's transaction for a batch: fn says whether to commit.
func (s *Store) apply(fn func(*State) bool) error { return s.transact(true, fn) }

// transact runs one transaction. A database failure anywhere (fn's reads, the
// write-back, the commit) rolls everything back and is returned as a *dbError.
func (s *Store) transact(write bool, fn func(*State) bool) error {
	if write {
		s.mu.Lock()
		defer s.mu.Unlock()
	}
	ctx, cancel := ctxTimeout()
	defer cancel()
	tx, err := s.db.begin(ctx, write)
	if err != nil {
		return err
	}
	// A panic that is not a database error (a bug) goes on up, but not with
	// the transaction open: on SQLite it would hold the write lock for good.
	finished := false
	defer func() {
		if !finished {
			tx.finish(false)
		}
	}()
	st := newView(tx)
	commit := false
	err = catch(func() {
		if fn(st) && write {
			st.flush()
			commit = true
		}
	})
	finished = true
	if err != nil || !commit {
		tx.finish(false)
		return err
	}
	return tx.finish(true)
}

// withLock runs fn under the exclusive store lock, for the key files.
func (s *Store) withLock(fn func() error) error {
	unlock, err := s.lock(unix.LOCK_EX)
	if err != nil {
		return err
	}
	defer unlock()
	return fn()
}

func (s *Store) lock(how int) (unlock func(), err error) { return s.lockFile(lockFile, how) }

// lockFile flocks the file name in the store folder.
func (s *Store) lockFile(name string, how int) (unlock func(), err error) {
	path := filepath.Join(s.dir, name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot open the cssm lock file %s: %w", path, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("cannot lock %s: %w", path, err)
	}
	return func() {
		_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
		f.Close()
	}, nil
}

// importJSON imports the old store, cssm.json, once: in one transaction that
// also records the import, then renames the file cssm.json.imported. A crash
// between the two leaves cssm.json in place, ignored from then on.
func (s *Store) importJSON() error {
	path := filepath.Join(s.dir, stateFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot read the old cssm store %s: %w", path, err)
	}
	old, err := decodeState(path, data)
	if err != nil {
		return err
	}
	already := false
	err = s.Update(func(st *State) error {
		var done string
		if already = st.tx.row(`SELECT v FROM meta WHERE k = 'imported_json'`, nil, &done); already {
			return nil
		}
		var n int
		st.tx.row(`SELECT (SELECT COUNT(*) FROM accounts) + (SELECT COUNT(*) FROM instances) + (SELECT COUNT(*) FROM tokens)`, nil, &n)
		if n > 0 {
			return fmt.Errorf("the cssm store %s has both a database (%s) with data and an old %s; cssm left both untouched: move %s aside to use the database, or move the database aside to import it", s.dir, s.db.where, stateFile, stateFile)
		}
		st.importState(old)
		st.tx.exec(`INSERT INTO meta (k, v) VALUES ('imported_json', ?)`, path)
		return nil
	})
	if err != nil || already { // a cssm.json put back after the import stays as it is
		return err
	}
	if err := os.Rename(path, filepath.Join(s.dir, importedFile)); err != nil {
		return fmt.Errorf("imported %s into the database, but cannot rename it %s: %w", path, importedFile, err)
	}
	return atomicfile.SyncDir(s.dir)
}

func (st *State) importState(old *jsonState) {
	st.smartAccounts()
	for _, sa := range old.SmartAccounts {
		st.addSmartAccount(sa)
	}
	for text, t := range old.Tokens {
		st.putToken(text, t)
	}
	for _, in := range old.Instances {
		st.addInstance(in)
	}
	for udi, t := range old.ReservationStamps {
		st.setStamp(udi, t)
	}
	// A node may still repeat a call the JSON store answered.
	for k, r := range old.Idempotency {
		if r != nil {
			st.idem[k], st.idemDirty[k] = r, true
		}
	}
}

func decodeState(path string, data []byte) (*jsonState, error) {
	var head struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("the old cssm store %s is corrupt (%v); cssm left it untouched: repair it or move it aside to start empty", path, err)
	}
	if head.Version == nil || *head.Version != schemaVersion {
		v := "missing"
		if head.Version != nil {
			v = fmt.Sprint(*head.Version)
		}
		return nil, fmt.Errorf("the old cssm store %s has schema version %s, but this cssm imports version %d; use the matching cssm or move the file aside", path, v, schemaVersion)
	}
	st := &jsonState{}
	if err := json.Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("the old cssm store %s is corrupt (%v); cssm left it untouched: repair it or move it aside to start empty", path, err)
	}
	for _, sa := range st.SmartAccounts {
		for _, va := range sa.VirtualAccounts {
			if va == nil || strings.TrimSpace(va.Name) == "" {
				return nil, fmt.Errorf("the old cssm store %s has a virtual account without a name; cssm left it untouched: repair it or move it aside", path)
			}
		}
	}
	for id, in := range st.Instances {
		if in == nil || in.ID != id {
			return nil, fmt.Errorf("the old cssm store %s has an instance %q that does not match its key; cssm left it untouched: repair it or move it aside", path, id)
		}
	}
	return st, nil
}
