package cssm

import (
	"errors"
	"os"
	"path/filepath"
)

// DefaultDir is the store used without --store: $XDG_STATE_HOME/ucmsh/cssm, else
// ~/.local/state/ucmsh/cssm. Its parent is the state root shared with the node,
// so it reads the environment exactly as publisher.DefaultStateRoot does.
func DefaultDir() (string, error) {
	if x := os.Getenv("XDG_STATE_HOME"); x != "" {
		return filepath.Join(x, "ucmsh", "cssm"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return "", errors.New("cannot find the default cssm store: neither XDG_STATE_HOME nor HOME is set; give --store DIR")
	}
	return filepath.Join(home, ".local", "state", "ucmsh", "cssm"), nil
}
