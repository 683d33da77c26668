package publisher

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/ucmsh/ucmsh/reservation"
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
func (id Identity) UDI() string { return id.reservationUDI().String() }

// reservationUDI is the identity in the reservation codes' terms.
func (id Identity) reservationUDI() reservation.UDI {
	u, err := reservation.NewUDI(ProductID, id.UUID)
	if err != nil { // the store checked the UUID; this cannot happen
		return reservation.UDI{PID: ProductID, SN: id.SN(), UUID: id.UUID}
	}
	return u
}

func (id Identity) valid() bool {
	if len(id.UUID) != 32 {
		return false
	}
	_, err := hex.DecodeString(id.UUID)
	return err == nil && strings.ToLower(id.UUID) == id.UUID
}
