package cssm

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/ucmsh/ucmsh/cssmapi"
)

// The product-facing operations. Each one validates everything before it changes
// anything, so that a refused call leaves the state exactly as it was: the server
// runs many calls in one saved transaction and relies on that.

var udiPattern = regexp.MustCompile(`^PID:[^,\s]+,SN:[^,\s]+,UUID:[0-9A-Fa-f]{32}$`)

// canonicalUDI removes the spaces some products put after the commas.
func canonicalUDI(s string) string {
	parts := strings.Split(strings.TrimSpace(s), ",")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return strings.Join(parts, ",")
}

func checkText(field, s string, required bool) error {
	switch {
	case required && s == "":
		return errField(field, "is empty")
	case len(s) > 255:
		return errField(field, "is longer than 255 bytes")
	case strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }):
		return errField(field, "contains control characters")
	}
	return nil
}

// Register registers a product with a token. A UDI already registered in the
// token's virtual account is replaced whatever force says, as CSSM does when a
// product re-registers: the old instance, its credential and its export keys go.
// A UDI registered in another virtual account needs force to move.
func (st *State) Register(now time.Time, req cssmapi.RegisterRequest) (*cssmapi.RegisterResponse, error) {
	udi := canonicalUDI(req.UDI)
	if !udiPattern.MatchString(udi) {
		return nil, errField("udi", "is not of the form PID:UCM,SN:<serial>,UUID:<32 hex digits>")
	}
	if err := checkText("hostname", req.Hostname, false); err != nil {
		return nil, err
	}
	if err := checkText("version", req.Version, false); err != nil {
		return nil, err
	}
	tok := st.token(strings.TrimSpace(req.Token))
	switch {
	case tok == nil, !tok.Revoked.IsZero():
		return nil, errTokenUnknown()
	case !now.Before(tok.Expires):
		return nil, errTokenExpired(tok.Expires)
	case tok.MaxUses > 0 && tok.Uses >= tok.MaxUses:
		return nil, errTokenUsedUp(tok.MaxUses)
	}
	sa, va := st.findVA(tok.VirtualAccount)
	if va == nil {
		return nil, errAccountGone(tok.VirtualAccount)
	}
	old := st.instanceByUDI(udi)
	if old != nil && old.Reservation != nil {
		return nil, errReservedProduct(old.VirtualAccount)
	}
	if old != nil && old.VirtualAccount != va.Name && !req.Force {
		return nil, errAlreadyRegistered(old.VirtualAccount)
	}

	cred := randomText(32)
	in := &Instance{
		ID:               newInstanceID(now),
		UDI:              udi,
		Hostname:         req.Hostname,
		Version:          req.Version,
		VirtualAccount:   va.Name,
		ExportAllowed:    tok.AllowExport,
		CredentialSHA256: hashCredential(cred),
		Registered:       now,
		LastSeen:         now,
	}
	if old != nil {
		st.removeInstance(old)
	}
	tok.Uses++
	st.addInstance(in)
	return &cssmapi.RegisterResponse{
		InstanceID:     in.ID,
		Credential:     cred,
		SmartAccount:   sa.Name,
		VirtualAccount: va.Name,
		ExportAllowed:  in.ExportAllowed,
	}, nil
}

// authenticate finds the instance and checks its credential: an unknown id is
// instance_not_found (the node then knows it was removed), a wrong secret unauthorized.
func (st *State) authenticate(id, credential string) (*Instance, error) {
	in := st.instance(id)
	if in == nil {
		return nil, errInstanceNotFound()
	}
	want, err := hex.DecodeString(in.CredentialSHA256)
	got := sha256.Sum256([]byte(credential))
	if err != nil || credential == "" || subtle.ConstantTimeCompare(want, got[:]) != 1 {
		return nil, errUnauthorized()
	}
	return in, nil
}

// RenewID renews the registration of an instance.
func (st *State) RenewID(now time.Time, credential string, req cssmapi.InstanceRequest) (*cssmapi.RenewIDResponse, error) {
	in, err := st.authenticate(req.InstanceID, credential)
	if err != nil {
		return nil, err
	}
	sa, _ := st.findVA(in.VirtualAccount)
	if sa == nil {
		return nil, errAccountGone(in.VirtualAccount)
	}
	in.RenewedID, in.LastSeen = now, now
	return &cssmapi.RenewIDResponse{OK: true, SmartAccount: sa.Name, VirtualAccount: in.VirtualAccount, ExportAllowed: in.ExportAllowed}, nil
}

// Authorize records the instance's usage (replacing its previous report) and
// answers compliance computed over the whole virtual account.
func (st *State) Authorize(now time.Time, credential string, req cssmapi.AuthorizeRequest) (*cssmapi.AuthorizeResponse, error) {
	in, err := st.authenticate(req.InstanceID, credential)
	if err != nil {
		return nil, err
	}
	usage := map[string]int{}
	seen := map[string]bool{}
	for _, u := range req.Usage {
		if _, ok := cssmapi.LookupTag(u.Tag); !ok {
			return nil, errUnknownEntitlement(u.Tag)
		}
		if seen[u.Tag] {
			return nil, errField("usage", fmt.Sprintf("lists %s twice", u.Tag))
		}
		if u.Count < 0 || u.Count > 1_000_000 {
			return nil, errField("usage", fmt.Sprintf("has count %d for %s (allowed 0 to 1000000)", u.Count, u.Tag))
		}
		seen[u.Tag] = true
		if u.Count > 0 {
			usage[u.Tag] = u.Count
		}
	}
	_, va := st.findVA(in.VirtualAccount)
	if va == nil {
		return nil, errAccountGone(in.VirtualAccount)
	}

	st.setUsage(in, usage)
	in.UsageReported, in.LastSeen = now, now

	balances := map[string]Balance{}
	for _, b := range st.balances(va, now) {
		balances[b.Tag] = b
	}
	resp := &cssmapi.AuthorizeResponse{Status: cssmapi.StatusNoLicensesInUse, Entitlements: []cssmapi.EntitlementStatus{}}
	for _, u := range req.Usage {
		b := balances[u.Tag]
		es := cssmapi.EntitlementStatus{
			Tag:         u.Tag,
			DisplayName: b.DisplayName,
			Description: b.Description(),
			Count:       u.Count,
			Status:      cssmapi.InCompliance,
		}
		// An entitlement this instance does not use is not its shortage.
		if u.Count > 0 {
			es.Status, es.BorrowedFrom = b.Status(), b.BorrowedFrom
			switch {
			case es.Status == cssmapi.OutOfCompliance:
				resp.Status = cssmapi.StatusOutOfCompliance
			case resp.Status == cssmapi.StatusNoLicensesInUse:
				resp.Status = cssmapi.StatusAuthorized
			}
		}
		resp.Entitlements = append(resp.Entitlements, es)
	}
	return resp, nil
}

// Deregister removes the instance and releases its export keys.
func (st *State) Deregister(credential string, req cssmapi.InstanceRequest) (*cssmapi.OKResponse, error) {
	in, err := st.authenticate(req.InstanceID, credential)
	if err != nil {
		return nil, err
	}
	st.removeInstance(in)
	return &cssmapi.OKResponse{OK: true}, nil
}

// ExportRequest gives the instance an export key from its virtual account's pool.
// Asking again for a key already held succeeds without taking another.
func (st *State) ExportRequest(now time.Time, credential string, req cssmapi.ExportRequest) (*cssmapi.ExportResponse, error) {
	in, err := st.authenticate(req.InstanceID, credential)
	if err != nil {
		return nil, err
	}
	if req.Feature != cssmapi.ExportFeature {
		return nil, errUnknownFeature(req.Feature)
	}
	if !in.ExportAllowed {
		return nil, errExportNotAllowed()
	}
	if !holds(in, req.Feature) {
		_, va := st.findVA(in.VirtualAccount)
		if va == nil {
			return nil, errAccountGone(in.VirtualAccount)
		}
		if va.ExportKeys-st.totals(va.Name).ExportHeld <= 0 {
			return nil, errNoExportKeys(va.Name)
		}
		st.holdExportKey(in, req.Feature)
	}
	in.LastSeen = now
	return exportResponse(in, req.Feature), nil
}

// ExportReturn gives the instance's key back to the pool.
func (st *State) ExportReturn(now time.Time, credential string, req cssmapi.ExportRequest) (*cssmapi.ExportResponse, error) {
	in, err := st.authenticate(req.InstanceID, credential)
	if err != nil {
		return nil, err
	}
	if req.Feature != cssmapi.ExportFeature {
		return nil, errUnknownFeature(req.Feature)
	}
	if !holds(in, req.Feature) {
		return nil, errNotHeld(req.Feature)
	}
	st.releaseExportKey(in, req.Feature)
	in.LastSeen = now
	return exportResponse(in, req.Feature), nil
}

func holds(in *Instance, feature string) bool {
	for _, f := range in.ExportKeys {
		if f == feature {
			return true
		}
	}
	return false
}

func exportResponse(in *Instance, feature string) *cssmapi.ExportResponse {
	return &cssmapi.ExportResponse{OK: true, Feature: feature, Features: append([]string{}, in.ExportKeys...)}
}

func hashCredential(cred string) string {
	sum := sha256.Sum256([]byte(cred))
	return hex.EncodeToString(sum[:])
}

// randomText is n random bytes as unpadded base64url.
func randomText(n int) string {
	b := make([]byte, n)
	for {
		rand.Read(b) // never fails: crypto/rand aborts the program instead
		// Never a leading '-': tokens and secrets are pasted into command
		// lines (cssm token revoke TOKEN), where that reads as an option.
		if s := base64.RawURLEncoding.EncodeToString(b); s == "" || s[0] != '-' {
			return s
		}
	}
}

// newInstanceID is a UUID version 7 (RFC 9562): the time in milliseconds,
// then random bits. Ids made one after the other sort together, so the
// database appends them to its index instead of writing all over it.
func newInstanceID(now time.Time) string {
	b := make([]byte, 16)
	rand.Read(b)
	ms := uint64(now.UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	b[6] = b[6]&0x0f | 0x70 // version 7
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
