package cssm

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ucmsh/ucmsh/internal/atomicfile"
)

// Backup writes a consistent copy of the SQLite database to path while
// `cssm serve` and portal commands go on: SQLite's VACUUM INTO reads one
// snapshot. The copy is made under a temporary name in path's folder and
// renamed into place, so path is either the old file or a whole backup. It
// restores by copying it to cssm.db in a store folder (cssm stopped).
func (s *Store) Backup(path string) error {
	if s.db.dialect != dialectSQLite {
		return fmt.Errorf("cssm backup copies the SQLite database; the store is on PostgreSQL (%s): back it up with pg_dump", s.db.where)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	dir := filepath.Dir(abs)
	f, err := os.CreateTemp(dir, filepath.Base(abs)+".tmp-*")
	if err != nil {
		return fmt.Errorf("cannot write the backup in %s: %w", dir, err)
	}
	tmp := f.Name()
	f.Close()
	os.Remove(tmp) // VACUUM INTO wants to create the file itself
	defer os.Remove(tmp)
	ctx, cancel := ctxTimeout()
	defer cancel()
	if _, err := s.db.db.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		return fmt.Errorf("cannot back up the cssm database %s to %s: %w", s.db.where, abs, err)
	}
	g, err := os.OpenFile(tmp, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = g.Chmod(0o600)
	if err == nil {
		err = g.Sync()
	}
	g.Close()
	if err != nil {
		return fmt.Errorf("cannot write the backup %s: %w", abs, err)
	}
	if err := os.Rename(tmp, abs); err != nil {
		return fmt.Errorf("cannot write the backup %s: %w", abs, err)
	}
	return atomicfile.SyncDir(dir)
}
