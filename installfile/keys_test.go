package installfile

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func writeKey(t *testing.T, path string, priv ed25519.PrivateKey, passphrase string, mode os.FileMode) {
	t.Helper()
	var block *pem.Block
	var err error
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), mode); err != nil {
		t.Fatal(err)
	}
}

// The node's own key: absent is no key; unprotected, encrypted or garbled
// is refused with a sentence saying how to fix it.
func TestNodeKey(t *testing.T) {
	dir := t.TempDir()
	if keys, err := NodeKey(filepath.Join(dir, "missing")); err != nil || len(keys) != 0 {
		t.Fatalf("missing key: %v, %v", keys, err)
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	good := filepath.Join(dir, "good")
	writeKey(t, good, priv, "", 0o600)
	if keys, err := NodeKey(good); err != nil || len(keys) != 1 {
		t.Fatalf("good key: %v, %v", keys, err)
	}
	open := filepath.Join(dir, "open")
	writeKey(t, open, priv, "", 0o640)
	locked := filepath.Join(dir, "locked")
	writeKey(t, locked, priv, "secret", 0o600)
	garbled := filepath.Join(dir, "garbled")
	os.WriteFile(garbled, []byte("not a key"), 0o600)
	for path, want := range map[string]string{open: "chmod 600 " + open, locked: "passphrase", garbled: "not an OpenSSH private key"} {
		_, err := NodeKey(path)
		wantKind(t, err, ErrNodeKey)
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %q does not say %q", filepath.Base(path), err, want)
		}
	}
}

// Without the opt-in, Keys offers only the node's key: never the process's
// agent or ~/.ssh.
func TestKeysWithoutUserKeys(t *testing.T) {
	home := t.TempDir()
	os.Mkdir(filepath.Join(home, ".ssh"), 0o700)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	writeKey(t, filepath.Join(home, ".ssh", "id_ed25519"), priv, "", 0o600)
	t.Setenv("HOME", home)
	t.Setenv("SSH_AUTH_SOCK", filepath.Join(home, "no-agent.sock"))

	signers, hangUp := Keys(filepath.Join(t.TempDir(), "install_file_key"), false)
	defer hangUp()
	if keys, err := signers(); err != nil || len(keys) != 0 {
		t.Fatalf("without opting in: %d keys, %v", len(keys), err)
	}
	signers, hangUp = Keys(filepath.Join(t.TempDir(), "install_file_key"), true)
	defer hangUp()
	if keys, err := signers(); err != nil || len(keys) != 1 {
		t.Fatalf("the local console's ~/.ssh key: %d keys, %v", len(keys), err)
	}
}

// With a logger, each login is logged with the server, the user and the
// key's fingerprint (or the method); never the password.
func TestFetchLogsLogin(t *testing.T) {
	setup, _ := withCode(t)
	clientKey := newSigner(t, "ed25519")
	srv := newTestServer(t, setup, func(s *testServer) { s.keys["alice"] = clientKey.PublicKey() })
	kh := srv.trustedKnownHosts(t)

	var log bytes.Buffer
	o := (&person{password: "s3cret"}).options(kh)
	o.Log = slog.New(slog.NewTextHandler(&log, nil))
	o.Signers = func() ([]ssh.Signer, error) { return []ssh.Signer{newSigner(t, "ecdsa"), clientKey}, nil }
	u := srv.url("alice", codePath)
	if _, err := fetchWithin(t, 10*time.Second, t.Context(), u, o); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"install-file login", "host=127.0.0.1", "port=" + strconv.Itoa(u.Port), "user=alice",
		`auth="publickey ECDSA SHA256:`, "publickey ED25519 " + ssh.FingerprintSHA256(clientKey.PublicKey()) + `"`} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}

	log.Reset()
	u = srv.url("admin", codePath)
	if _, err := fetchWithin(t, 10*time.Second, t.Context(), u, o); err != nil {
		t.Fatal(err)
	}
	// The keys were refused, then the password logged in: the last method.
	if !strings.Contains(log.String(), "user=admin") || !strings.Contains(log.String(), `, password" path=`) {
		t.Errorf("password login log:\n%s", log.String())
	}
	if strings.Contains(log.String(), "s3cret") {
		t.Errorf("the log holds the password:\n%s", log.String())
	}
}
