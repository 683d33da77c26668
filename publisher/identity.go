package publisher

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
)

// ProductID is the PID of every CUCM node in its UDI.
const ProductID = "UCM"

// Identity is the node's licensing identity. The UUID is generated once,
// when the node's state is created, and never changes.
type Identity struct {
	UUID string `json:"uuid"` // 32 lowercase hex digits, no dashes
}

// NewIdentity generates a random (version 4) UUID.
func NewIdentity() (Identity, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Identity{}, fmt.Errorf("generate node UUID: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return Identity{UUID: hex.EncodeToString(b[:])}, nil
}

// SN is the serial number: the last five hex digits of the UUID.
func (id Identity) SN() string {
	if len(id.UUID) < 5 {
		return id.UUID
	}
	return id.UUID[len(id.UUID)-5:]
}

// UDI is the unique device identifier as `show license UDI` prints it.
func (id Identity) UDI() string {
	return fmt.Sprintf("PID:%s,SN:%s,UUID:%s", ProductID, id.SN(), id.UUID)
}

// DashedUUID is the 8-4-4-4-12 form used in request codes.
func (id Identity) DashedUUID() string {
	u := id.UUID
	if len(u) != 32 {
		return u
	}
	return strings.Join([]string{u[:8], u[8:12], u[12:16], u[16:20], u[20:]}, "-")
}

func (id Identity) valid() bool {
	if len(id.UUID) != 32 {
		return false
	}
	_, err := hex.DecodeString(id.UUID)
	return err == nil && strings.ToLower(id.UUID) == id.UUID
}
