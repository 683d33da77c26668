package termtest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// Exec runs cmd over an SSH exec request on c with stdin as its input and
// returns what it wrote to stdout and to stderr, and its exit status. A
// session that cannot be opened or that ends without a status fails t.
func Exec(t testing.TB, c *ssh.Client, cmd, stdin string) (stdout, stderr string, status int) {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var o, e bytes.Buffer
	s.Stdin, s.Stdout, s.Stderr = strings.NewReader(stdin), &o, &e
	err = s.Run(cmd)
	var ee *ssh.ExitError
	switch {
	case errors.As(err, &ee):
		return o.String(), e.String(), ee.ExitStatus()
	case err != nil:
		t.Fatalf("%s: %v", cmd, err)
	}
	return o.String(), e.String(), 0
}

// AsSSHUser gives the test process a user's SSH credentials, as the
// account running ucmsh may have: an SSH agent holding agentKey
// ($SSH_AUTH_SOCK) and ~/.ssh/id_ed25519 holding fileKey ($HOME).
func AsSSHUser(t *testing.T, agentKey, fileKey ed25519.PrivateKey) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	WritePrivateKey(t, filepath.Join(home, ".ssh", "id_ed25519"), fileKey)
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: agentKey}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	Listen(t, "unix", sock, func(c net.Conn) { agent.ServeAgent(keyring, c) })
	t.Setenv("SSH_AUTH_SOCK", sock)
}

// Listen listens on network and address until the test ends and serves
// each connection with serve in a goroutine of its own, closing it after.
func Listen(t testing.TB, network, address string, serve func(net.Conn)) net.Listener {
	t.Helper()
	ln, err := net.Listen(network, address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				serve(c)
			}()
		}
	}()
	return ln
}

// SSHKey makes an ed25519 SSH key.
func SSHKey(t testing.TB) (ssh.Signer, ed25519.PrivateKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s, priv
}

// WritePrivateKey writes priv to path as OpenSSH does (PEM, 0600), making
// its folder (0700) if need be.
func WritePrivateKey(t testing.TB, path string, priv ed25519.PrivateKey) {
	t.Helper()
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Closes reports whether the server closes the connection c within d.
func Closes(c *ssh.Client, d time.Duration) bool {
	closed := make(chan error, 1)
	go func() { closed <- c.Wait() }()
	select {
	case <-closed:
		return true
	case <-time.After(d):
		return false
	}
}
