package publisher

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// Store keeps State in <dir>/state.json. Every access holds an exclusive
// lock on <dir>/state.lock (a separate file, because the lock must not sit
// on an inode that rename replaces), and every write is atomic and durable:
// temp file, fsync, rename, fsync of the directory.
type Store struct {
	dir  string
	mu   sync.Mutex // flock is per open file, so goroutines need their own lock
	lock *os.File
}

// StateFile and LockFile are the names inside the state folder.
const (
	StateFile = "state.json"
	LockFile  = "state.lock"
)

// StateError says the state file exists but cannot be used. It is never
// replaced behind the user's back.
type StateError struct {
	Path string
	Err  error
}

func (e *StateError) Error() string {
	return fmt.Sprintf("The licensing state file %s cannot be used: %v. Nothing was changed; restore it from a backup, or move it aside to start again with a new node identity.", e.Path, e.Err)
}

func (e *StateError) Unwrap() error { return e.Err }

// SaveError says the new state could not be written; the old one is intact.
type SaveError struct {
	Path string
	Err  error
}

func (e *SaveError) Error() string {
	return fmt.Sprintf("Cannot save the licensing state to %s: %v. The previous state is unchanged; free some space or fix the folder's permissions, then try again.", e.Path, e.Err)
}

func (e *SaveError) Unwrap() error { return e.Err }

// OpenStore prepares the state folder (mode 0700). It does not read state.
func OpenStore(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the state folder %s: %w", dir, err)
	}
	return &Store{dir: dir}, nil
}

// Dir is the state folder.
func (s *Store) Dir() string { return s.dir }

// Path is the state file.
func (s *Store) Path() string { return filepath.Join(s.dir, StateFile) }

// View runs fn on the stored state. A missing file gives a zero State
// (Version 0), which callers initialise through Update.
func (s *Store) View(fn func(*State) error) error {
	unlock, err := s.acquire()
	if err != nil {
		return err
	}
	defer unlock()
	st, _, err := s.load()
	if err != nil {
		return err
	}
	return fn(st)
}

// Update runs fn on the stored state and saves the result if fn succeeds
// and changed anything. If fn fails, nothing is written.
func (s *Store) Update(fn func(*State) error) error {
	unlock, err := s.acquire()
	if err != nil {
		return err
	}
	defer unlock()
	st, old, err := s.load()
	if err != nil {
		return err
	}
	if err := fn(st); err != nil {
		return err
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	data = append(data, '\n')
	if bytes.Equal(data, old) {
		return nil
	}
	if err := writeAtomic(s.Path(), data); err != nil {
		return &SaveError{Path: s.Path(), Err: err}
	}
	return nil
}

func (s *Store) acquire() (func(), error) {
	s.mu.Lock()
	if s.lock == nil {
		f, err := os.OpenFile(filepath.Join(s.dir, LockFile), os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			s.mu.Unlock()
			return nil, fmt.Errorf("cannot open the state lock in %s: %w", s.dir, err)
		}
		s.lock = f
	}
	for {
		err := unix.Flock(int(s.lock.Fd()), unix.LOCK_EX)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EINTR) {
			s.mu.Unlock()
			return nil, fmt.Errorf("cannot lock the state in %s: %w", s.dir, err)
		}
	}
	return func() {
		_ = unix.Flock(int(s.lock.Fd()), unix.LOCK_UN)
		s.mu.Unlock()
	}, nil
}

func (s *Store) load() (*State, []byte, error) {
	path := s.Path()
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &State{}, nil, nil
	}
	if err != nil {
		return nil, nil, &StateError{Path: path, Err: err}
	}
	var st State
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return nil, nil, &StateError{Path: path, Err: fmt.Errorf("it is not valid state JSON (%v)", err)}
	}
	if err := st.check(); err != nil {
		return nil, nil, &StateError{Path: path, Err: err}
	}
	return &st, data, nil
}

// writeAtomic replaces path with data so that a crash at any moment leaves
// either the old file or the new one.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
