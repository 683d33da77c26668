// Package atomicfile replaces files so that a crash at any moment leaves either
// the old content or the new one, never a mix: a temporary file in the same
// folder, fsync, rename over the target, fsync of the folder.
package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// tempSuffix marks temporary files; RemoveStale finds them by it.
const tempSuffix = ".tmp-"

// Write replaces path with data, created with mode (before umask is irrelevant:
// the mode is set on the temporary file explicitly).
func Write(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+tempSuffix+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	renamed := false
	defer func() {
		if !renamed {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(mode); err != nil {
		return err
	}
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
	renamed = true
	return SyncDir(dir)
}

// SyncDir makes a rename or a new file in dir durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// RemoveStale deletes the temporary files that a writer of path killed before
// its rename left behind. Call it only while holding the lock that writers of
// path hold, so that no temporary file found is still being written. Failures
// are ignored: the files are only clutter.
func RemoveStale(path string) {
	stale, _ := filepath.Glob(path + tempSuffix + "*")
	for _, f := range stale {
		os.Remove(f)
	}
}

// Create writes path with data only if it does not exist yet, atomically: the
// content is complete before the name appears. It reports false, and writes
// nothing, when another writer created path first.
func Create(path string, data []byte, mode os.FileMode) (created bool, err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+tempSuffix+"*")
	if err != nil {
		return false, err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return false, err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return false, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return false, err
	}
	if err := f.Close(); err != nil {
		return false, err
	}
	// A link fails if the name exists, unlike a rename.
	if err := os.Link(f.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, err
	}
	return true, SyncDir(dir)
}
