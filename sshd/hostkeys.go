package sshd

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"

	"github.com/ucmsh/ucmsh/internal/atomicfile"
)

// rsaBits is the size of a new RSA host key (OpenSSH's default). Tests
// lower it.
var rsaBits = 3072

// HostKey is one of the server's host keys.
type HostKey struct {
	Signer  ssh.Signer
	Path    string
	Created bool // made by this call
}

// LoadHostKeys returns the server's host keys from dir: host_key
// (Ed25519) and host_key_rsa (RSA, for clients that pin it), creating
// each (0600, with a .pub beside it) the first time.
func LoadHostKeys(dir string) ([]HostKey, error) {
	var keys []HostKey
	for _, k := range []struct {
		file string
		gen  func() (crypto.PrivateKey, error)
	}{
		{HostKeyFile, func() (crypto.PrivateKey, error) {
			_, priv, err := ed25519.GenerateKey(rand.Reader)
			return priv, err
		}},
		{HostKeyRSAFile, func() (crypto.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, rsaBits) }},
	} {
		path := filepath.Join(dir, k.file)
		s, created, err := loadHostKey(path, k.gen)
		if err != nil {
			return nil, err
		}
		keys = append(keys, HostKey{Signer: s, Path: path, Created: created})
	}
	return keys, nil
}

// LoadHostKey returns the Ed25519 host key alone (see LoadHostKeys).
func LoadHostKey(dir string) (ssh.Signer, bool, error) {
	return loadHostKey(filepath.Join(dir, HostKeyFile), func() (crypto.PrivateKey, error) {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	})
}

func loadHostKey(path string, gen func() (crypto.PrivateKey, error)) (ssh.Signer, bool, error) {
	if s, err := readHostKey(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return s, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, err
	}
	priv, err := gen()
	if err != nil {
		return nil, false, err
	}
	block, err := ssh.MarshalPrivateKey(priv, "ucmsh host key")
	if err != nil {
		return nil, false, err
	}
	// Another server may have made the key meanwhile: then use that one.
	created, err := atomicfile.Create(path, pem.EncodeToMemory(block), 0o600)
	if err != nil {
		return nil, false, err
	}
	s, err := readHostKey(path)
	if err != nil {
		return nil, false, err
	}
	if created {
		pub := ssh.MarshalAuthorizedKey(s.PublicKey())
		if err := atomicfile.Write(path+".pub", pub, 0o644); err != nil {
			return nil, false, err
		}
	}
	return s, created, nil
}

func readHostKey(path string) (ssh.Signer, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf(msgHostKeyReadable, path, info.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := ssh.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("the host key %s: %w", path, err)
	}
	return s, nil
}

// hostSigner restricts an RSA key to SHA-2 signatures (RFC 8332), and
// SHA-1 ssh-rsa only with legacy algorithms.
func hostSigner(s ssh.Signer, legacy bool) (ssh.Signer, error) {
	if s.PublicKey().Type() != ssh.KeyAlgoRSA {
		return s, nil
	}
	as, ok := s.(ssh.AlgorithmSigner)
	if !ok {
		return nil, errors.New("sshd: the RSA host key cannot choose its signature algorithm")
	}
	algos := []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256}
	if legacy {
		algos = append(algos, ssh.KeyAlgoRSA)
	}
	return ssh.NewSignerWithAlgorithms(as, algos)
}

// algorithms are what the server offers: x/crypto's secure set (its
// defaults would also take diffie-hellman-group14-sha1 and
// hmac-sha1-96), plus with legacy the SHA-1 key exchange and ssh-rsa
// client signatures some UC clients still pin.
func algorithms(legacy bool) (cfg ssh.Config, pubkeyAuth []string) {
	a := ssh.SupportedAlgorithms()
	cfg = ssh.Config{KeyExchanges: a.KeyExchanges, Ciphers: a.Ciphers, MACs: a.MACs}
	pubkeyAuth = a.PublicKeyAuths
	if legacy {
		cfg.KeyExchanges = append(cfg.KeyExchanges, ssh.InsecureKeyExchangeDH14SHA1)
		pubkeyAuth = append(pubkeyAuth, ssh.KeyAlgoRSA)
	}
	return cfg, pubkeyAuth
}
