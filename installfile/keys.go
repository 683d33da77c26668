package installfile

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// Keys gives the keys install-file offers, for FetchOptions.Signers: the
// node's own key at nodeKey (if the file exists), then, only if userKeys,
// the keys of the user running the process (their SSH agent, then the
// unencrypted default keys in ~/.ssh). A server passes userKeys=false so
// that no session borrows the serving account's credentials. Nothing is
// read or dialled until the keys are asked for; close hangs up on the
// agent once the fetch is over.
func Keys(nodeKey string, userKeys bool) (signers func() ([]ssh.Signer, error), close func()) {
	var conn net.Conn
	signers = func() ([]ssh.Signer, error) {
		out, err := NodeKey(nodeKey)
		if err != nil {
			return nil, err
		}
		if !userKeys {
			return out, nil
		}
		if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" && conn == nil {
			if c, err := net.Dial("unix", sock); err == nil {
				conn = c
				if s, err := agent.NewClient(c).Signers(); err == nil {
					out = append(out, s...)
				}
			}
		}
		home, err := os.UserHomeDir()
		if err != nil {
			return out, nil
		}
		// Keys that cannot be used are skipped: the password question remains.
		for _, name := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
			data, err := os.ReadFile(filepath.Join(home, ".ssh", name))
			if err != nil {
				continue
			}
			if s, err := ssh.ParsePrivateKey(data); err == nil {
				out = append(out, s)
			}
		}
		return out, nil
	}
	close = func() {
		if conn != nil {
			conn.Close()
		}
	}
	return signers, close
}

// NodeKey reads the node's own install-file key (an unencrypted OpenSSH
// private key, as ssh-keygen -N ” writes it). A missing file is no key; a
// file others can read, or one that is not a usable key, is an error that
// says how to fix it, as OpenSSH refuses an unprotected key.
func NodeKey(path string) ([]ssh.Signer, error) {
	if path == "" {
		return nil, nil
	}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fetchErr(ErrNodeKey, err, msgNodeKeyRead, path, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fetchErr(ErrNodeKey, nil, msgNodeKeyMode, path, fi.Mode().Perm(), path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fetchErr(ErrNodeKey, err, msgNodeKeyRead, path, err)
	}
	s, err := ssh.ParsePrivateKey(data)
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &missing):
		return nil, fetchErr(ErrNodeKey, err, msgNodeKeyPassphrase, path)
	case err != nil:
		return nil, fetchErr(ErrNodeKey, err, msgNodeKeyParse, path, causeText(err))
	}
	return []ssh.Signer{s}, nil
}
