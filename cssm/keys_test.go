package cssm

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/ucmsh/ucmsh/cssmapi"
)

func TestSigningKeyIsMadeOnceAndPublishedToTheNodeTrustFolder(t *testing.T) {
	root := t.TempDir() // a state root shared by cssm/ and node/
	s, err := openStore(t, filepath.Join(root, "cssm"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	pub, wrote, err := s.PublishKey()
	if err != nil {
		t.Fatal(err)
	}
	trust := filepath.Join(root, "node", "trust", "cssm.pem")
	if wrote != trust {
		t.Fatalf("wrote %q, want %q", wrote, trust)
	}
	if got, _ := os.ReadFile(trust); !bytes.Equal(got, pub) {
		t.Fatal("trust file differs from the printed key")
	}
	block, _ := pem.Decode(pub)
	if block == nil || block.Type != "PUBLIC KEY" {
		t.Fatalf("public key PEM: %q", pub)
	}
	if _, err := x509.ParsePKIXPublicKey(block.Bytes); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(s.Dir(), "signing_key.pem"), trust} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want mode 0600", p, fi.Mode(), err)
		}
	}

	// Again: the same key, and nothing rewritten.
	key, err := s.SigningKey()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := PublicKeyPEM(&key.PublicKey)
	if !bytes.Equal(again, pub) {
		t.Fatal("a second call made a new key")
	}
	if _, wrote, _ := s.PublishKey(); wrote != "" {
		t.Fatalf("unchanged trust file rewritten at %s", wrote)
	}
}

func TestStoreOutsideAStateRootPublishesNowhere(t *testing.T) {
	s, err := openStore(t, filepath.Join(t.TempDir(), "licensing"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, wrote, err := s.PublishKey(); err != nil || wrote != "" {
		t.Fatalf("wrote %q, err %v; want nothing written", wrote, err)
	}
}

func TestDamagedSigningKeyIsNotReplaced(t *testing.T) {
	s, _ := openStore(t, t.TempDir())
	defer s.Close()
	path := filepath.Join(s.Dir(), "signing_key.pem")
	os.WriteFile(path, []byte("not a key"), 0o600)
	if _, err := s.SigningKey(); err == nil {
		t.Fatal("a damaged key was accepted")
	}
	if got, _ := os.ReadFile(path); string(got) != "not a key" {
		t.Fatal("the damaged key was overwritten")
	}
}

func TestTLSCertificateIsMadeOnceForLoopback(t *testing.T) {
	s, _ := openStore(t, t.TempDir())
	defer s.Close()
	cert, certPEM, err := s.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	if err := cert.Leaf.VerifyHostname("127.0.0.1"); err != nil {
		t.Error(err)
	}
	if err := cert.Leaf.VerifyHostname("localhost"); err != nil {
		t.Error(err)
	}
	if _, ok := cert.PrivateKey.(*ecdsa.PrivateKey); !ok {
		t.Errorf("key is %T", cert.PrivateKey)
	}
	again, againPEM, err := s.TLSCertificate()
	if err != nil || !bytes.Equal(againPEM, certPEM) {
		t.Fatalf("second call: %v, same PEM %v", err, bytes.Equal(againPEM, certPEM))
	}
	if cssmapi.Fingerprint(again.Certificate[0]) != cssmapi.Fingerprint(cert.Certificate[0]) {
		t.Fatal("fingerprint changed between calls")
	}
}
