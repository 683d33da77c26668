package reservation

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadTrustDir(t *testing.T) {
	dir := t.TempDir()
	k1, _ := GenerateKey()
	k2, _ := GenerateKey()
	write := func(name string, data []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("b-cssm.pem", MarshalPublicKeyPEM(&k2.PublicKey))
	write("a-satellite.pem", MarshalPublicKeyPEM(&k1.PublicKey))
	write("README", []byte("not a key"))
	write("a-satellite.pem.bak", []byte("junk"))
	if err := os.Mkdir(filepath.Join(dir, "old.pem"), 0o700); err != nil {
		t.Fatal(err)
	}

	keys, err := LoadTrustDir(dir)
	if err != nil {
		t.Fatalf("LoadTrustDir: %v", err)
	}
	if len(keys) != 2 || !keys[0].Equal(&k1.PublicKey) || !keys[1].Equal(&k2.PublicKey) {
		t.Fatalf("LoadTrustDir gave %d keys, want k1 then k2 (name order)", len(keys))
	}

	// A code signed by either key verifies with the loaded set.
	ac := sampleCode(captureUDI)
	text, err := Sign(k2, ac)
	if err != nil {
		t.Fatal(err)
	}
	parsed, _ := ParseAuthCode(text)
	if err := Verify(parsed, keys); err != nil {
		t.Errorf("Verify with loaded keys: %v", err)
	}
}

func TestLoadTrustDirMissing(t *testing.T) {
	keys, err := LoadTrustDir(filepath.Join(t.TempDir(), "trust"))
	if err != nil || keys != nil {
		t.Errorf("missing directory: %v, %v; want no keys and no error", keys, err)
	}
}

func TestLoadTrustDirBadFiles(t *testing.T) {
	ecPriv, _ := GenerateKey()
	privDER, _ := x509.MarshalECPrivateKey(ecPriv)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384DER, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	edDER, _ := x509.MarshalPKIXPublicKey(edPub)

	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, `does not hold a PEM "PUBLIC KEY" block`},
		{"private key", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: privDER}), `holds a PEM "EC PRIVATE KEY" block, but only "PUBLIC KEY" is accepted`},
		{"garbage DER", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("xx")}), "does not hold a valid public key"},
		{"P-384", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: p384DER}), "does not hold an ECDSA P-256 key"},
		{"Ed25519", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: edDER}), "does not hold an ECDSA P-256 key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "server.pem")
			if err := os.WriteFile(path, c.data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadTrustDir(dir)
			wantKind(t, err, ErrBadTrustKey)
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not name %s and say %q", err, path, c.want)
			}
		})
	}
}

func TestMarshalPublicKeyPEM(t *testing.T) {
	k, _ := GenerateKey()
	out := MarshalPublicKeyPEM(&k.PublicKey)
	if !strings.HasPrefix(string(out), "-----BEGIN PUBLIC KEY-----\n") {
		t.Errorf("MarshalPublicKeyPEM = %q", out)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if MarshalPublicKeyPEM(&p384.PublicKey) != nil || MarshalPublicKeyPEM(nil) != nil {
		t.Error("MarshalPublicKeyPEM accepted a key LoadTrustDir would refuse")
	}
}
