package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ucmsh/ucmsh/internal/atomicfile"
	"github.com/ucmsh/ucmsh/internal/statedir"
)

// Snapshot describes a saved snapshot.
type Snapshot struct {
	Name    string                 `json:"name"`
	LabTime time.Time              `json:"lab_time"` // the instant it holds
	SavedAt time.Time              `json:"saved_at"` // real time
	Tokens  map[string]SeededToken `json:"tokens"`
	Faults  []Fault                `json:"faults,omitempty"`
}

const snapshotMeta = "snapshot.json"

var snapshotNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`) // at most 64 (validName)

// snapshotDir checks a name and returns its folder, always inside the
// lab's snapshots/ (no path, no "..", no hidden names).
func (l *Lab) snapshotDir(name string) (string, error) {
	if !validName(snapshotNameRE, name, 64) || strings.Contains(name, "..") {
		return "", fmt.Errorf(msgSnapshotName, name)
	}
	dir := l.dir.snapshot(name)
	if rel, err := filepath.Rel(l.dir.snapshots(), dir); err != nil || rel != name {
		return "", fmt.Errorf("%q is not a snapshot name", name)
	}
	return dir, nil
}

// SaveSnapshot copies every node's state and cssm's as of one instant:
// the timers are paused, cssm's requests wait at its door, and every
// publisher's state lock is held while the copy is made.
func (l *Lab) SaveSnapshot(name string) (*Snapshot, error) {
	dir, err := l.snapshotDir(name)
	if err != nil {
		return nil, err
	}
	l.world.Lock()
	defer l.world.Unlock()
	for _, n := range l.nodes {
		n.mu.Lock()
		defer n.mu.Unlock()
	}
	l.gate.Lock()
	defer l.gate.Unlock()
	for _, n := range l.nodes {
		if n.svc() == nil {
			continue
		}
		unlock, err := flock(statedir.Node(l.dir.node(n.place.Hostname)).Lock())
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	meta := &Snapshot{Name: name, LabTime: l.clock.Now(), SavedAt: time.Now().UTC(), Tokens: l.saved.Tokens, Faults: l.faults.snapshot()}

	if err := os.MkdirAll(l.dir.snapshots(), 0o700); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(l.dir.snapshots(), ".saving-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if err := copyTree(l.dir.nodes(), filepath.Join(tmp, "nodes")); err != nil {
		return nil, fmt.Errorf(msgCannotSave, err)
	}
	if err := copyTree(l.dir.cssm(), filepath.Join(tmp, "cssm-store")); err != nil {
		return nil, fmt.Errorf(msgCannotSave, err)
	}
	data, _ := json.MarshalIndent(meta, "", "  ")
	if err := atomicfile.Write(filepath.Join(tmp, snapshotMeta), append(data, '\n'), 0o600); err != nil {
		return nil, err
	}
	// Replace an older snapshot of the name only once the new one is whole.
	old := dir + ".old"
	os.RemoveAll(old)
	if _, err := os.Stat(dir); err == nil {
		if err := os.Rename(dir, old); err != nil {
			return nil, err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, err
	}
	os.RemoveAll(old)
	return meta, nil
}

// LoadSnapshot stops the nodes and cssm, puts the snapshot's state in
// place and starts them again on the same addresses (open sessions are
// closed). The lab clock keeps its time: it never moves back, so the
// timers that fell due since the snapshot run at once.
func (l *Lab) LoadSnapshot(name string) (*Snapshot, error) {
	dir, err := l.snapshotDir(name)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(dir, snapshotMeta))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf(msgNoSnapshot, name)
	}
	if err != nil {
		return nil, err
	}
	var meta Snapshot
	if err := json.Unmarshal(data, &meta); err != nil {
		return nil, fmt.Errorf(msgSnapshotDamaged, name, err)
	}
	err = l.restartWorld(func() error {
		if err := replaceTree(filepath.Join(dir, "nodes"), l.dir.nodes()); err != nil {
			return err
		}
		if err := replaceTree(filepath.Join(dir, "cssm-store"), l.dir.cssm()); err != nil {
			return err
		}
		l.saved.Tokens = meta.Tokens
		l.faults.mu.Lock()
		l.faults.list = (&saved{Faults: meta.Faults}).faultPointers()
		l.faults.notify()
		l.faults.mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &meta, l.writeInventory()
}

// Snapshots lists the saved snapshots.
func (l *Lab) Snapshots() ([]Snapshot, error) {
	entries, err := os.ReadDir(l.dir.snapshots())
	if errors.Is(err, fs.ErrNotExist) {
		return []Snapshot{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := []Snapshot{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(l.dir.snapshots(), e.Name(), snapshotMeta))
		if err != nil || !validName(snapshotNameRE, e.Name(), 64) {
			continue
		}
		var s Snapshot
		if json.Unmarshal(data, &s) == nil {
			s.Tokens = nil
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Reset puts the lab back to its seed: every node's state and cssm's are
// made anew (new tokens), faults are cleared; accounts and addresses stay.
func (l *Lab) Reset() error {
	err := l.restartWorld(func() error {
		for _, d := range []string{l.dir.nodes(), l.dir.cssm()} {
			if err := os.RemoveAll(d); err != nil {
				return err
			}
		}
		l.saved.Tokens = nil
		l.faults.mu.Lock()
		l.faults.list = nil
		l.faults.notify()
		l.faults.mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	return l.writeInventory()
}

func flock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return func() { unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }, nil
}

// copyTree copies a folder of regular files (and folders), keeping modes;
// links and other files are skipped. A missing source is an empty tree.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && path == src {
			return os.MkdirAll(dst, 0o700)
		}
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, info.Mode().Perm()|0o700)
		case !info.Mode().IsRegular():
			return nil
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		if err := out.Sync(); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}

// replaceTree puts a copy of src at dst, replacing it. Killed at any
// point, it leaves dst whole, or dst.old whole (recoverTree puts it back).
func replaceTree(src, dst string) error {
	tmp, old := dst+".loading", dst+".old"
	os.RemoveAll(tmp)
	if err := copyTree(src, tmp); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	os.RemoveAll(old)
	if err := os.Rename(dst, old); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	return os.RemoveAll(old)
}

// recoverTree finishes or undoes a replaceTree that was killed.
func recoverTree(dst string) {
	os.RemoveAll(dst + ".loading")
	if _, err := os.Stat(dst); errors.Is(err, fs.ErrNotExist) {
		os.Rename(dst+".old", dst)
	}
	os.RemoveAll(dst + ".old")
}
