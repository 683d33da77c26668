package publisher

import (
	"os"
	"path/filepath"
)

// DefaultStateRoot is where the node's and the licensing server's folders
// live by default: $XDG_STATE_HOME/ucmsh, else ~/.local/state/ucmsh.
func DefaultStateRoot() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "ucmsh")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(".", ".ucmsh-state")
	}
	return filepath.Join(home, ".local", "state", "ucmsh")
}

// DefaultNodeDir is the node's state folder when --state is not given.
func DefaultNodeDir() string { return filepath.Join(DefaultStateRoot(), "node") }
