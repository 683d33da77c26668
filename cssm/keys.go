package cssm

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/ucmsh/ucmsh/internal/statedir"

	"github.com/ucmsh/ucmsh/internal/atomicfile"
)

const (
	signingKeyFile = "signing_key.pem"
	tlsCertFile    = "tls_cert.pem"
	tlsKeyFile     = "tls_key.pem"
	trustFileName  = "cssm.pem"
)

// SigningKey returns the store's ECDSA P-256 key, creating it on first use. It is
// created under the store lock so that two processes never make two keys.
func (s *Store) SigningKey() (*ecdsa.PrivateKey, error) {
	var key *ecdsa.PrivateKey
	err := s.withLock(func() error {
		var err error
		key, err = s.loadOrCreateKey(signingKeyFile)
		return err
	})
	return key, err
}

func (s *Store) loadOrCreateKey(name string) (*ecdsa.PrivateKey, error) {
	path := filepath.Join(s.dir, name)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, err
		}
		if err := atomicfile.Write(filepath.Join(s.dir, name), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			return nil, fmt.Errorf("cannot write the key %s: %w", path, err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the key %s: %w", path, err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s is not a PEM \"PRIVATE KEY\"; restore it from a backup or move it aside to create a new key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	key, ok := k.(*ecdsa.PrivateKey)
	if err != nil || !ok || key.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%s is not an ECDSA P-256 private key; restore it from a backup or move it aside to create a new key", path)
	}
	return key, nil
}

// PublicKeyPEM encodes a public key as PEM "PUBLIC KEY" (PKIX), the form the node
// keeps in its trust/ folder.
func PublicKeyPEM(pub *ecdsa.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// TrustPath is where the node sharing this store's state root looks for cssm's
// key: <root>/node/trust/cssm.pem when the store is <root>/cssm (the default
// layout, or a --state that follows it); "" otherwise.
func (s *Store) TrustPath() string {
	if filepath.Base(s.dir) != "cssm" {
		return ""
	}
	return filepath.Join(statedir.Node(filepath.Join(filepath.Dir(s.dir), "node")).Trust(), trustFileName)
}

// PublishKey makes sure the signing key exists, writes its public half to
// TrustPath (when there is one and it differs) and returns the PEM and the path
// written, if any.
func (s *Store) PublishKey() (pubPEM []byte, wrote string, err error) {
	err = s.withLock(func() error {
		key, err := s.loadOrCreateKey(signingKeyFile)
		if err != nil {
			return err
		}
		if pubPEM, err = PublicKeyPEM(&key.PublicKey); err != nil {
			return err
		}
		path := s.TrustPath()
		if path == "" {
			return nil
		}
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, pubPEM) {
			return nil
		}
		dir := filepath.Dir(path)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("cannot create the node trust folder %s: %w", dir, err)
		}
		if err := atomicfile.Write(filepath.Join(dir, trustFileName), pubPEM, 0o600); err != nil {
			return fmt.Errorf("cannot write cssm's public key to %s: %w", path, err)
		}
		wrote = path
		return nil
	})
	return pubPEM, wrote, err
}

// TLSCertificate returns the server's self-signed certificate for 127.0.0.1, ::1
// and localhost, creating it once; certPEM is what `cssm cert` prints for pinning.
// Its validity follows the real clock, not --now: TLS clients check it against theirs.
func (s *Store) TLSCertificate() (cert tls.Certificate, certPEM []byte, err error) {
	err = s.withLock(func() error {
		certPath := filepath.Join(s.dir, tlsCertFile)
		key, err := s.loadOrCreateKey(tlsKeyFile)
		if err != nil {
			return err
		}
		certPEM, err = os.ReadFile(certPath)
		if errors.Is(err, fs.ErrNotExist) {
			if certPEM, err = selfSign(key); err != nil {
				return err
			}
			if err := atomicfile.Write(filepath.Join(s.dir, tlsCertFile), certPEM, 0o600); err != nil {
				return fmt.Errorf("cannot write the TLS certificate %s: %w", certPath, err)
			}
		} else if err != nil {
			return fmt.Errorf("cannot read the TLS certificate %s: %w", certPath, err)
		}
		block, _ := pem.Decode(certPEM)
		if block == nil || block.Type != "CERTIFICATE" {
			return fmt.Errorf("%s is not a PEM certificate; move it aside and cssm will make a new one", certPath)
		}
		leaf, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return fmt.Errorf("%s is not a valid certificate (%v); move it aside and cssm will make a new one", certPath, err)
		}
		if pub, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) {
			return fmt.Errorf("%s does not match the key %s; move both aside and cssm will make new ones", certPath, tlsKeyFile)
		}
		cert = tls.Certificate{Certificate: [][]byte{block.Bytes}, PrivateKey: key, Leaf: leaf}
		return nil
	})
	return cert, certPEM, err
}

func selfSign(key *ecdsa.PrivateKey) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "cssm licensing server", Organization: []string{"ucmsh"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(20, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}
