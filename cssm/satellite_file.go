package cssm

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
)

// A sync file is what a satellite and its parent exchange, by hand
// (disconnected) or over POST PathSatelliteSync (connected): a signed
// envelope around one message. The signature is ECDSA P-256 (the sender
// store's signing key) over SHA-256 of syncDomain and the body, so a file
// cannot be altered, and the body names sender, receiver and a sequence
// number, so it cannot be sent to another parent or replayed.
const (
	SyncFormat        = "ucmsh-cssm-sync/1"
	syncDomain        = "ucmsh cssm satellite sync v1\n"
	MaxSyncFileBytes  = 8 << 20
	PathSatelliteSync = "/v1/satellite/sync"

	syncUp   = "satellite-to-parent"
	syncDown = "parent-to-satellite"
)

type syncEnvelope struct {
	Format    string `json:"format"`
	Body      []byte `json:"body"`      // base64 in JSON: the signed bytes, exactly
	Signature []byte `json:"signature"` // ASN.1 ECDSA
}

// syncMessage is the body. Up: the satellite's instances and usage. Down: the
// pools of the satellite's accounts and the instances the parent revoked.
type syncMessage struct {
	Kind      string    `json:"kind"`
	Satellite string    `json:"satellite"`
	Parent    string    `json:"parent"` // the parent's key fingerprint
	Seq       int64     `json:"seq"`    // the satellite's export number; a reply echoes it
	Created   time.Time `json:"created"`

	Instances []SatelliteInstance `json:"instances,omitempty"` // up

	Accounts []MirroredAccount `json:"accounts,omitempty"` // down
	Revoked  []string          `json:"revoked,omitempty"`  // down: instance IDs
}

// SatelliteInstance is a product instance a satellite serves, as its parent sees it.
type SatelliteInstance struct {
	ID             string         `json:"id"`
	UDI            string         `json:"udi"`
	Hostname       string         `json:"hostname"`
	VirtualAccount string         `json:"virtual_account"`
	LastSeen       time.Time      `json:"last_seen"`
	Usage          map[string]int `json:"usage,omitempty"`
}

// MirroredAccount is a virtual account the parent lets a satellite serve, with
// the licences free for it.
type MirroredAccount struct {
	SmartAccount   string    `json:"smart_account"`
	VirtualAccount string    `json:"virtual_account"`
	Licenses       []License `json:"licenses"`
	ExportKeys     int       `json:"export_keys"`
}

// keyFingerprint names a public key: SHA-256 of its PKIX encoding, hex.
func keyFingerprint(pub *ecdsa.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	return cssmapi.Fingerprint(der)
}

// ParsePublicKeyPEM reads a "PUBLIC KEY" PEM as `cssm key` prints it.
func ParsePublicKeyPEM(data []byte) (*ecdsa.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, errors.New(msgSyncNotAKey)
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	pub, ok := k.(*ecdsa.PublicKey)
	if err != nil || !ok {
		return nil, errors.New(msgSyncNotAKey)
	}
	return pub, nil
}

func signSync(key *ecdsa.PrivateKey, m *syncMessage) ([]byte, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(append([]byte(syncDomain), body...))
	sig, err := ecdsa.SignASN1(rand.Reader, key, sum[:])
	if err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(syncEnvelope{Format: SyncFormat, Body: body, Signature: sig}, "", "  ")
	return append(out, '\n'), err
}

// decodeSyncFile parses a sync file without trusting it: the message is
// returned with the envelope, for the caller to pick the key that must have
// signed it (verifySync) before anything in it is used.
func decodeSyncFile(data []byte) (*syncEnvelope, *syncMessage, error) {
	if len(data) > MaxSyncFileBytes {
		return nil, nil, fmt.Errorf(msgSyncTooLarge, MaxSyncFileBytes>>20)
	}
	var env syncEnvelope
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil || dec.More() {
		return nil, nil, errors.New(msgSyncNotAFile)
	}
	if env.Format != SyncFormat {
		return nil, nil, fmt.Errorf(msgSyncFormat, env.Format, SyncFormat)
	}
	var m syncMessage
	dec = json.NewDecoder(bytes.NewReader(env.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil || dec.More() {
		return nil, nil, errors.New(msgSyncNotAFile)
	}
	if m.Kind != syncUp && m.Kind != syncDown || m.Seq < 1 || m.Satellite == "" || m.Parent == "" {
		return nil, nil, errors.New(msgSyncNotAFile)
	}
	if len(m.Instances) > maxSatelliteInstances || len(m.Accounts) > maxSatelliteAccounts || len(m.Revoked) > maxSatelliteInstances {
		return nil, nil, errors.New(msgSyncNotAFile)
	}
	return &env, &m, nil
}

func verifySync(pub *ecdsa.PublicKey, env *syncEnvelope) bool {
	sum := sha256.Sum256(append([]byte(syncDomain), env.Body...))
	return ecdsa.VerifyASN1(pub, sum[:], env.Signature)
}

// Bounds of one satellite (SSM On-Prem scales to 10,000 product instances).
const (
	maxSatelliteInstances = 10_000
	maxSatelliteAccounts  = 1_000
)

// syncLockFile serializes a satellite's connected syncs across processes.
const syncLockFile = "satellite_sync.lock"
