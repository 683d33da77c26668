package cssm

import (
	"path/filepath"
	"testing"
)

func TestDefaultDirFollowsXDG(t *testing.T) {
	t.Setenv("HOME", "/home/admin")
	for xdg, want := range map[string]string{
		"/var/lib/state": "/var/lib/state/ucmsh/cssm",
		"":               "/home/admin/.local/state/ucmsh/cssm",
	} {
		t.Setenv("XDG_STATE_HOME", xdg)
		got, err := DefaultDir()
		if err != nil || got != want {
			t.Errorf("XDG_STATE_HOME=%q: %q %v, want %q", xdg, got, err, want)
		}
		s := &Store{dir: got}
		if trust := s.TrustPath(); trust != filepath.Join(filepath.Dir(want), "node", "trust", "cssm.pem") {
			t.Errorf("trust path %s", trust)
		}
	}
}
