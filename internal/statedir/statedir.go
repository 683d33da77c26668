// Package statedir is the one place that knows where state lives: the default
// state root shared by the node and cssm, and the layout of a node's folder.
// No other package spells these names.
package statedir

import (
	"os"
	"path/filepath"
)

// Root is the state root holding node/ and cssm/: $XDG_STATE_HOME/ucmsh, else
// ~/.local/state/ucmsh, else (no home at all) .ucmsh-state in the working
// folder, so the node and cssm always agree on it.
func Root() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "ucmsh")
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		return filepath.Join(home, ".local", "state", "ucmsh")
	}
	return ".ucmsh-state"
}

// DefaultNode is the node's folder when --state is not given.
func DefaultNode() string { return filepath.Join(Root(), "node") }

// DefaultCSSM is cssm's folder when --state is not given.
func DefaultCSSM() string { return filepath.Join(Root(), "cssm") }

// Node is the layout of one node's state folder.
type Node string

// Names inside a node's folder.
const (
	StateFile          = "state.json"
	LockFile           = "state.lock"
	TrustDir           = "trust"
	KnownHostsFile     = "known_hosts"
	HistoryFile        = "history"
	SSHDir             = "ssh"
	HostKeyFile        = "host_key"
	HostKeyRSAFile     = "host_key_rsa"
	UsersFile          = "users"
	AuthorizedKeysFile = "authorized_keys"
	InstallFileKeyFile = "install_file_key"
)

// Dir is the folder itself.
func (n Node) Dir() string { return string(n) }

// State is state.json: the node's licensing state.
func (n Node) State() string { return filepath.Join(string(n), StateFile) }

// Lock is the file whose flock serializes changes to state.json.
func (n Node) Lock() string { return filepath.Join(string(n), LockFile) }

// Trust holds the PEM keys (and TLS certificates) of trusted licensing servers.
func (n Node) Trust() string { return filepath.Join(string(n), TrustDir) }

// KnownHosts is install-file's known_hosts (OpenSSH plain lines).
func (n Node) KnownHosts() string { return filepath.Join(string(n), KnownHostsFile) }

// History is the local console's command history.
func (n Node) History() string { return filepath.Join(string(n), HistoryFile) }

// SSH is the folder of ucmsh serve's files.
func (n Node) SSH() string { return filepath.Join(string(n), SSHDir) }

// HostKey is ucmsh serve's private host key (its public half is HostKey()+".pub").
func (n Node) HostKey() string { return filepath.Join(n.SSH(), HostKeyFile) }

// HostKeyRSA is ucmsh serve's RSA host key, for clients that know no
// Ed25519 (its public half is HostKeyRSA()+".pub").
func (n Node) HostKeyRSA() string { return filepath.Join(n.SSH(), HostKeyRSAFile) }

// Users holds the SSH accounts' password hashes.
func (n Node) Users() string { return filepath.Join(n.SSH(), UsersFile) }

// AuthorizedKeys holds the public keys allowed to log in.
func (n Node) AuthorizedKeys() string { return filepath.Join(n.SSH(), AuthorizedKeysFile) }

// InstallFileKey is the node's own SSH private key for install-file's SFTP
// logins (its public half, InstallFileKey()+".pub", goes on the server).
func (n Node) InstallFileKey() string { return filepath.Join(n.SSH(), InstallFileKeyFile) }

// DefaultLab is `ucmsh lab`'s folder when --dir is not given.
func DefaultLab() string { return filepath.Join(Root(), "lab") }
