package publisher

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"slices"
	"sync"

	"github.com/ucmsh/ucmsh/internal/atomicfile"
	"github.com/ucmsh/ucmsh/internal/statedir"

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
	// cache is the state as this Store last read or wrote it (guarded by
	// mu and the flock). It saves decoding an unchanged file, and encoding
	// a state that a transaction did not change; see load and Update.
	cache *cachedState
	buf   []byte // readFile's buffer, reused (guarded like cache)
	swept bool   // stale temporary files were looked for (guarded like cache)
}

// cachedState is state.json's bytes and their decoded form. The file is
// still read on every transaction, under the lock: the cache is used only
// when the bytes are exactly those cached, so a change by another process
// is always seen. (The file's identity - device, inode, size, mtime -
// would save the read, but inode numbers are reused and mtimes are
// coarse, so two different writes can look alike; bytes cannot.)
type cachedState struct {
	data []byte
	// st is never handed out: each transaction gets a deep copy.
	st *State
	// canonical: data is exactly what encoding st gives, so a state equal
	// to st would encode to data and need not be written.
	canonical bool
}

// StateFile and LockFile are the names inside the state folder.
const (
	StateFile = statedir.StateFile
	LockFile  = statedir.LockFile
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

// OpenStore prepares the state folder and its trust/ folder (mode 0700).
// It does not read state.
func OpenStore(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the state folder %s: %w", dir, err)
	}
	if trust := statedir.Node(dir).Trust(); os.Mkdir(trust, 0o700) != nil {
		if fi, err := os.Stat(trust); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("cannot create the trust folder %s (the licensing server keys this node trusts): %v", trust, err)
		}
	}
	return &Store{dir: dir}, nil
}

// Dir is the state folder.
func (s *Store) Dir() string { return s.dir }

// Path is the state file.
func (s *Store) Path() string { return statedir.Node(s.dir).State() }

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
	// Performance: a transaction that changed nothing (most of them: the
	// timers' check before every command, the reports) is recognised
	// without encoding the state. Equal values encode to the same bytes,
	// so this writes exactly when the encoding below differs from the file.
	if c := s.cache; c != nil && c.canonical && bytes.Equal(c.data, old) && sameState(st, c.st) {
		return nil
	}
	data, err := encodeState(st)
	if err != nil {
		return err
	}
	if bytes.Equal(data, old) {
		return nil
	}
	if !s.swept {
		s.swept = true
		s.removeStaleTemps()
	}
	if err := atomicfile.Write(s.Path(), data, 0o600); err != nil {
		return &SaveError{Path: s.Path(), Err: err}
	}
	s.cache = &cachedState{data: data, st: cloneState(st), canonical: true}
	return nil
}

func encodeState(st *State) ([]byte, error) {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	return append(data, '\n'), nil
}

func (s *Store) acquire() (func(), error) {
	s.mu.Lock()
	if s.lock == nil {
		// O_NOFOLLOW: a symbolic link planted as the lock is refused.
		f, err := os.OpenFile(statedir.Node(s.dir).Lock(), os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW, 0o600)
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

// load reads the state file (the caller holds the lock) and returns a
// state the caller may change freely, and the file's bytes.
func (s *Store) load() (*State, []byte, error) {
	path := s.Path()
	data, err := s.readFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &State{}, nil, nil
	}
	if err != nil {
		return nil, nil, &StateError{Path: path, Err: err}
	}
	// Performance: the same bytes as last time decode to the same state.
	if c := s.cache; c != nil && bytes.Equal(c.data, data) {
		return cloneState(c.st), c.data, nil
	}
	data = bytes.Clone(data) // s.buf is reused by the next read
	st, err := decodeState(path, data)
	if err != nil {
		return nil, nil, err
	}
	enc, err := encodeState(st)
	s.cache = &cachedState{data: data, st: cloneState(st), canonical: err == nil && bytes.Equal(enc, data)}
	return st, data, nil
}

// readFile is os.ReadFile into a buffer the Store reuses (the caller holds
// the lock). Performance: os.ReadFile allocates and zeroes a new buffer
// and registers the file with the network poller each time, which cost
// more than the rest of a cached transaction. Errors read as os.ReadFile's.
func (s *Store) readFile(path string) ([]byte, error) {
	fd, err := openRetry(path)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	buf := s.buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, max(cap(buf), 32<<10))
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			break
		}
		buf = buf[:len(buf)+n]
	}
	s.buf = buf
	return buf, nil
}

func openRetry(path string) (int, error) {
	for {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if !errors.Is(err, unix.EINTR) {
			return fd, err
		}
	}
}

func decodeState(path string, data []byte) (*State, error) {
	var st State
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return nil, &StateError{Path: path, Err: fmt.Errorf("it is not valid state JSON (%v)", err)}
	}
	if err := st.check(); err != nil {
		return nil, &StateError{Path: path, Err: err}
	}
	return &st, nil
}

// sameState reports whether a and b certainly encode to the same JSON. It
// is strict (a time in another *time.Location, or an empty slice against
// a nil one, counts as a difference), so a doubt costs an encoding, never
// a lost write. The trace, the bulk of the state, is compared directly.
func sameState(a, b *State) bool {
	if (a.Events == nil) != (b.Events == nil) || !slices.Equal(a.Events, b.Events) {
		return false
	}
	ac, bc := *a, *b
	ac.Events, bc.Events = nil, nil
	return reflect.DeepEqual(&ac, &bc)
}

// cloneState is a deep copy of st: the two share no memory that either
// could change.
func cloneState(st *State) *State {
	cp := new(State)
	deepCopy(reflect.ValueOf(cp).Elem(), reflect.ValueOf(st).Elem())
	return cp
}

// deepCopy sets dst to a copy of src that shares no pointer, slice or map
// with it. It follows exported fields; unexported ones are copied as they
// are (the only ones in State are time.Time's, whose *time.Location is
// immutable). TestCloneStateIsDeep fills every field to prove it.
func deepCopy(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if !src.IsNil() {
			p := reflect.New(src.Type().Elem())
			deepCopy(p.Elem(), src.Elem())
			dst.Set(p)
		}
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		cp := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		if flat(src.Type().Elem()) {
			reflect.Copy(cp, src)
		} else {
			for i := range src.Len() {
				deepCopy(cp.Index(i), src.Index(i))
			}
		}
		dst.Set(cp)
	case reflect.Map:
		if src.IsNil() {
			return
		}
		cp := reflect.MakeMapWithSize(src.Type(), src.Len())
		for it := src.MapRange(); it.Next(); {
			v := reflect.New(src.Type().Elem()).Elem()
			deepCopy(v, it.Value())
			cp.SetMapIndex(it.Key(), v)
		}
		dst.Set(cp)
	case reflect.Interface:
		if !src.IsNil() {
			v := reflect.New(src.Elem().Type()).Elem()
			deepCopy(v, src.Elem())
			dst.Set(v)
		}
	case reflect.Struct:
		dst.Set(src)
		if flat(src.Type()) {
			return
		}
		t := src.Type()
		for i := range t.NumField() {
			if t.Field(i).IsExported() && !flat(t.Field(i).Type) {
				deepCopy(dst.Field(i), src.Field(i))
			}
		}
	default:
		dst.Set(src)
	}
}

var flatTypes sync.Map // reflect.Type -> bool

// flat reports whether a plain assignment copies a value of type t
// completely: no pointer, slice, map or interface in its exported fields.
func flat(t reflect.Type) bool {
	if v, ok := flatTypes.Load(t); ok {
		return v.(bool)
	}
	f := true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		f = false
	case reflect.Array:
		f = flat(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if t.Field(i).IsExported() && !flat(t.Field(i).Type) {
				f = false
			}
		}
	}
	flatTypes.Store(t, f)
	return f
}

// removeStaleTemps deletes temporary files that a writer killed before
// its rename left behind (the caller holds the exclusive lock, and writers
// create and remove or rename their temporary file under it, so any found
// now is stale). Once per Store, before its first write; failures are
// ignored: the files are only clutter.
func (s *Store) removeStaleTemps() {
	atomicfile.RemoveStale(s.Path())
}
