package atomicfile_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ucmsh/ucmsh/internal/atomicfile"
)

func TestWriteReplacesTheFileWithItsMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Write(path, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "new" {
		t.Fatalf("content = %q, %v", got, err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, want 0600", fi.Mode().Perm())
	}
	if left, _ := filepath.Glob(path + ".tmp-*"); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestAFailedWriteLeavesTheOldFileAndNoTemporary(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "missing", "state.json") // its folder does not exist
	if err := atomicfile.Write(path, []byte("x"), 0o600); err == nil {
		t.Fatal("write into a missing folder succeeded")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Fatalf("files left: %v", left)
	}
}

func TestRemoveStaleDeletesOnlyTemporariesOfThatFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cssm.json")
	for _, name := range []string{"cssm.json", "cssm.json.tmp-123", "cssm.json.tmp-abc", "other.tmp-1"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	atomicfile.RemoveStale(path)
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	want := []string{filepath.Join(dir, "cssm.json"), filepath.Join(dir, "other.tmp-1")}
	if len(left) != len(want) || left[0] != want[0] || left[1] != want[1] {
		t.Fatalf("left %v, want %v", left, want)
	}
}

func TestCreateKeepsTheFirstWritersFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "host_key")
	if created, err := atomicfile.Create(path, []byte("first"), 0o600); err != nil || !created {
		t.Fatalf("first Create = %v, %v", created, err)
	}
	if created, err := atomicfile.Create(path, []byte("second"), 0o600); err != nil || created {
		t.Fatalf("second Create = %v, %v", created, err)
	}
	if got, _ := os.ReadFile(path); string(got) != "first" {
		t.Fatalf("content = %q", got)
	}
	if left, _ := filepath.Glob(path + ".tmp-*"); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}
