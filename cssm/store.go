package cssm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/ucmsh/ucmsh/internal/atomicfile"

	"golang.org/x/sys/unix"
)

const (
	stateFile = "cssm.json"
	lockFile  = "cssm.lock" // locked instead of cssm.json: a rename would leave the lock on the old inode
)

// Store is cssm's state directory. Every change runs as lock, load, mutate, save,
// unlock under an exclusive flock on cssm.lock, so a `cssm serve` and portal commands
// in other processes never lose each other's updates.
//
// A Store keeps the last state it loaded or saved and reuses it while cssm.json is
// the very file it saw: same device and inode (every save is a new file renamed
// into place), same size and modification time (for edits in place). It keeps
// that file open, so that its inode number cannot be reused by a later save.
type Store struct {
	dir string

	mu      sync.Mutex // one transaction at a time within this process
	cache   *State
	cacheID fileID
	held    *os.File     // the file cache was read from or saved to
	buf     bytes.Buffer // reused for each save
}

type fileID struct {
	dev, ino uint64
	size     int64
	mtime    int64
}

func statID(fi os.FileInfo) fileID {
	id := fileID{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.dev, id.ino = uint64(st.Dev), st.Ino
	}
	return id
}

// Open creates dir (0700) if needed and returns its Store.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("the cssm store directory is empty; give --store DIR")
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
	return s, nil
}

// Close releases the file the store keeps open; the Store stays usable.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropCache()
	return nil
}

func (s *Store) dropCache() {
	if s.held != nil {
		s.held.Close()
	}
	s.cache, s.held, s.cacheID = nil, nil, fileID{}
}

func (s *Store) setCache(st *State, f *os.File, id fileID) {
	if s.held != nil && s.held != f {
		s.held.Close()
	}
	s.cache, s.held, s.cacheID = st, f, id
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

// Path is the state file, cssm.json.
func (s *Store) Path() string { return filepath.Join(s.dir, stateFile) }

// Update runs fn on the current state and saves it if fn returns nil. fn must not
// keep the state after it returns.
func (s *Store) Update(fn func(*State) error) error {
	var fnErr error
	err := s.transact(unix.LOCK_EX, true, func(st *State) bool {
		fnErr = fn(st)
		return fnErr == nil
	})
	if fnErr != nil {
		return fnErr
	}
	return err
}

// View runs fn on the current state without saving; fn must not change it.
func (s *Store) View(fn func(*State) error) error {
	var fnErr error
	err := s.transact(unix.LOCK_SH, false, func(st *State) bool {
		fnErr = fn(st)
		return false
	})
	if err != nil {
		return err
	}
	return fnErr
}

// apply is Update for a fn that changes nothing unless it asks to save (the
// server's batches), so a batch of refused calls keeps the cached state.
func (s *Store) apply(fn func(*State) bool) error {
	return s.transact(unix.LOCK_EX, false, fn)
}

// transact is one locked transaction; fn returns whether to save. When fn may have
// changed the state without asking to save (a failed Update), the cached copy is
// dropped so that the next transaction reads the disk again.
func (s *Store) transact(how int, mayDirty bool, fn func(*State) bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	unlock, err := s.lock(how)
	if err != nil {
		return err
	}
	defer unlock()
	st, err := s.load()
	if err != nil {
		return err
	}
	if !fn(st) {
		if mayDirty {
			s.dropCache()
		}
		return nil
	}
	if err := s.save(st); err != nil {
		s.dropCache() // memory is ahead of the disk: reload next time
		return err
	}
	return nil
}

// withLock runs fn under the exclusive store lock, for files other than cssm.json.
func (s *Store) withLock(fn func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	unlock, err := s.lock(unix.LOCK_EX)
	if err != nil {
		return err
	}
	defer unlock()
	return fn()
}

func (s *Store) lock(how int) (unlock func(), err error) {
	path := filepath.Join(s.dir, lockFile)
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

// load returns the cached state if cssm.json is unchanged, else reads it. A missing
// file is an empty store; a corrupt one is an error and is left as it is.
func (s *Store) load() (*State, error) {
	path := s.Path()
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		s.dropCache()
		return newState(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the cssm store %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("cannot read the cssm store %s: %w", path, err)
	}
	id := statID(fi)
	if s.cache != nil && id == s.cacheID {
		f.Close()
		return s.cache, nil
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("cannot read the cssm store %s: %w", path, err)
	}
	st, err := decodeState(path, data)
	if err != nil {
		f.Close()
		s.dropCache()
		return nil, err
	}
	s.setCache(st, f, id)
	return st, nil
}

func decodeState(path string, data []byte) (*State, error) {
	var head struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("the cssm store %s is corrupt (%v); cssm left it untouched: repair it or move it aside to start empty", path, err)
	}
	if head.Version == nil || *head.Version != schemaVersion {
		v := "missing"
		if head.Version != nil {
			v = fmt.Sprint(*head.Version)
		}
		return nil, fmt.Errorf("the cssm store %s has schema version %s, but this cssm reads version %d; use the matching cssm or move the file aside", path, v, schemaVersion)
	}
	st := &State{}
	if err := json.Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("the cssm store %s is corrupt (%v); cssm left it untouched: repair it or move it aside to start empty", path, err)
	}
	if st.Tokens == nil {
		st.Tokens = map[string]*Token{}
	}
	if st.Instances == nil {
		st.Instances = map[string]*Instance{}
	}
	st.reindex()
	return st, nil
}

func (s *Store) save(st *State) error {
	s.buf.Reset()
	if err := st.encode(&s.buf); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(s.dir, stateFile), s.buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("cannot save the cssm store %s: %w", s.Path(), err)
	}
	// Saved. Keep the new file as the cache's identity; failing that, only the
	// cache is lost and the next transaction reads the file.
	f, err := os.Open(s.Path())
	if err != nil {
		s.dropCache()
		return nil
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		s.dropCache()
		return nil
	}
	s.setCache(st, f, statID(fi))
	return nil
}
