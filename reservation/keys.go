package reservation

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// GenerateKey makes a licensing-server signing key (ECDSA P-256).
func GenerateKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// MarshalPublicKeyPEM writes pub as a PEM "PUBLIC KEY" (PKIX) block, the form
// LoadTrustDir reads. It returns nil if pub is not a usable P-256 key.
func MarshalPublicKeyPEM(pub *ecdsa.PublicKey) []byte {
	if pub == nil || pub.Curve != elliptic.P256() {
		return nil
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// LoadTrustDir reads the licensing-server keys a node accepts codes from:
// every *.pem file in dir, in name order, each holding one or more PEM
// "PUBLIC KEY" blocks. Other files are ignored so notes or backups can sit
// beside the keys; a bad .pem file is an error naming it, because silently
// skipping a key would make a valid code fail with a puzzling signature
// error. A missing directory is not an error: the node simply trusts no one.
func LoadTrustDir(dir string) ([]*ecdsa.PublicKey, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, newErr(ErrBadTrustKey, msgKeyDir, dir, err)
	}
	var keys []*ecdsa.PublicKey
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".pem") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, newErr(ErrBadTrustKey, msgKeyRead, path, err)
		}
		ks, err := parsePublicKeysPEM(path, data)
		if err != nil {
			return nil, err
		}
		keys = append(keys, ks...)
	}
	return keys, nil
}

func parsePublicKeysPEM(path string, data []byte) ([]*ecdsa.PublicKey, error) {
	var keys []*ecdsa.PublicKey
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "PUBLIC KEY" {
			return nil, newErr(ErrBadTrustKey, msgKeyPEMType, path, block.Type)
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, newErr(ErrBadTrustKey, msgKeyParse, path, err)
		}
		ec, ok := pub.(*ecdsa.PublicKey)
		if !ok || ec.Curve != elliptic.P256() {
			return nil, newErr(ErrBadTrustKey, msgKeyCurve, path)
		}
		keys = append(keys, ec)
	}
	if len(keys) == 0 {
		return nil, newErr(ErrBadTrustKey, msgKeyNoPEM, path)
	}
	return keys, nil
}

// Sign renders ac canonically and signs it with the licensing server's key.
// It fills in ac.Signature and returns the full code text. The fields are
// first checked by parsing a rendering of them, so Sign can never issue a
// code that ParseAuthCode would refuse.
func Sign(priv *ecdsa.PrivateKey, ac *AuthCode) (string, error) {
	if priv == nil || ac == nil {
		return "", newErr(ErrBadFormat, msgCannotSign, "no key or no code was given.")
	}
	probe := *ac
	probe.Signature = []byte{0}
	probe.signed = nil
	text := probe.Render()
	parsed, err := ParseAuthCode(text)
	if err != nil {
		return "", newErr(ErrBadFormat, msgCannotSign, err.Error())
	}
	if parsed.Render() != text {
		return "", newErr(ErrBadFormat, msgCannotSign, "its fields are not in canonical form (the PIID must be lowercase).")
	}
	signed := ac.canonicalSigned()
	digest := sha256.Sum256([]byte(signed))
	sig, err := ecdsa.SignASN1(rand.Reader, priv, digest[:])
	if err != nil {
		return "", newErr(ErrBadFormat, msgSignFailed, err)
	}
	ac.Signature = sig
	ac.signed = []byte(signed)
	ac.signedAsOf = signed
	return ac.Render(), nil
}

// Verify checks that a trusted licensing-server key signed ac. It says
// nothing about whether the code fits this node: that is CheckFor.
func Verify(ac *AuthCode, keys []*ecdsa.PublicKey) error {
	usable := 0
	for _, k := range keys {
		if k != nil {
			usable++
		}
	}
	if usable == 0 {
		return newErr(ErrNoTrustedKeys, msgNoKeys)
	}
	if ac == nil || len(ac.Signature) == 0 {
		return newErr(ErrBadSignature, msgBadSig)
	}
	digest := sha256.Sum256(ac.SignedBytes())
	for _, k := range keys {
		if k != nil && ecdsa.VerifyASN1(k, digest[:], ac.Signature) {
			return nil
		}
	}
	return newErr(ErrBadSignature, msgBadSig)
}
