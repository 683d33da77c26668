package reservation

import (
	"net"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// UserKeys gives the keys a user would log in with, for
// FetchOptions.Signers: the SSH agent's, then the unencrypted default keys
// in ~/.ssh. Keys that cannot be used are skipped (the password question
// remains). The agent is dialled only if the keys are asked for; close
// hangs up, once the fetch is over.
func UserKeys() (signers func() ([]ssh.Signer, error), close func()) {
	var conn net.Conn
	signers = func() ([]ssh.Signer, error) {
		var out []ssh.Signer
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
