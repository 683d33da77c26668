package cssm

import (
	"slices"
	"time"
)

// schemaVersion is the "version" of cssm.json this code reads and writes.
const schemaVersion = 1

// Licence types.
const (
	Perpetual = "PERPETUAL"
	Term      = "TERM"
)

// State is the whole content of cssm.json. Change it only inside Store.Update (or a
// server operation) and only through the methods below that keep the index right.
type State struct {
	Version       int                  `json:"version"`
	SmartAccounts []*SmartAccount      `json:"smart_accounts"`
	Tokens        map[string]*Token    `json:"tokens"`              // by token text
	Instances     map[string]*Instance `json:"instances,omitempty"` // by instance id

	// ReservationStamps is the timestamp of the last authorization code issued
	// to each UDI (canonical long form), kept after the reservation is gone so
	// that every later code for that node is newer, even under a fixed --now.
	ReservationStamps map[string]time.Time `json:"reservation_timestamps,omitempty"`

	// Idempotency holds the first answer to each call that carried an
	// idempotency key, by key, for IdempotencyRetention.
	Idempotency map[string]*IdempotencyRecord `json:"idempotency,omitempty"`

	pruned time.Time // when pruneIdempotency last scanned; never saved

	idx *index      // derived from Instances on load; never saved
	enc encodeCache // each instance's JSON as last saved
}

// SmartAccount groups virtual accounts. Virtual account names are unique across the
// store, so the portal commands need only --virtual.
type SmartAccount struct {
	Name            string            `json:"name"`
	Created         time.Time         `json:"created"`
	VirtualAccounts []*VirtualAccount `json:"virtual_accounts"`
}

// VirtualAccount owns a licence pool, an export key pool, tokens and instances.
type VirtualAccount struct {
	Name       string    `json:"name"`
	Created    time.Time `json:"created"`
	Licenses   []License `json:"licenses"`
	ExportKeys int       `json:"export_keys"` // pool size, keys held by instances included

	// Forfeited are reservations whose instance was removed without a return
	// code: their licences stay out of the pool until the product's return
	// code is entered (cssm reservation return).
	Forfeited []*ForfeitedReservation `json:"forfeited_reservations,omitempty"`
}

// License is one purchase in a virtual account's pool.
type License struct {
	Tag     string    `json:"tag"`
	Count   int       `json:"count"`
	Type    string    `json:"type"`               // Perpetual or Term
	TermEnd string    `json:"term_end,omitempty"` // YYYY-MM-DD: last day of validity, UTC
	Added   time.Time `json:"added"`
}

// validAt reports whether the licence counts at now: perpetual, or a term whose
// last day has not ended.
func (l License) validAt(now time.Time) bool {
	if l.Type != Term {
		return true
	}
	end, err := time.Parse(time.DateOnly, l.TermEnd)
	return err == nil && now.Before(end.AddDate(0, 0, 1))
}

// Token is a product registration token.
type Token struct {
	VirtualAccount string    `json:"virtual_account"`
	Created        time.Time `json:"created"`
	Expires        time.Time `json:"expires"`
	MaxUses        int       `json:"max_uses"` // 0: unlimited
	Uses           int       `json:"uses"`
	AllowExport    bool      `json:"allow_export"`
}

// Instance is a registered product.
type Instance struct {
	ID               string         `json:"id"`
	UDI              string         `json:"udi"`
	Hostname         string         `json:"hostname"`
	Version          string         `json:"version"`
	VirtualAccount   string         `json:"virtual_account"`
	ExportAllowed    bool           `json:"export_allowed"`
	CredentialSHA256 string         `json:"credential_sha256"` // hex; the credential itself is never stored
	Registered       time.Time      `json:"registered"`
	RenewedID        time.Time      `json:"renewed_id,omitzero"`
	LastSeen         time.Time      `json:"last_seen"`
	UsageReported    time.Time      `json:"usage_reported,omitzero"`
	Usage            map[string]int `json:"usage,omitempty"` // last report, non-zero counts only
	ExportKeys       []string       `json:"export_keys,omitempty"`
	Reservation      *Reservation   `json:"reservation,omitempty"` // set on a Specific License Reservation instance
}

func newState() *State {
	st := &State{Version: schemaVersion, Tokens: map[string]*Token{}, Instances: map[string]*Instance{}}
	st.reindex()
	return st
}

// index answers "who is in this virtual account and what do they use" without a
// scan of every instance: authorize runs once per product per month, so with many
// thousands of products a scan per call would dominate.
type index struct {
	byUDI map[string]*Instance
	va    map[string]*vaTotals
}

type vaTotals struct {
	instances  int
	inUse      map[string]int // tag -> sum of the instances' last reports
	exportHeld int
	reserving  map[string]*Instance // reservation instances by id
}

func (st *State) reindex() {
	st.idx = &index{byUDI: map[string]*Instance{}, va: map[string]*vaTotals{}}
	for _, in := range st.Instances {
		st.indexAdd(in)
	}
}

func (st *State) totals(va string) *vaTotals {
	t := st.idx.va[va]
	if t == nil {
		t = &vaTotals{inUse: map[string]int{}, reserving: map[string]*Instance{}}
		st.idx.va[va] = t
	}
	return t
}

func (st *State) indexAdd(in *Instance) {
	st.idx.byUDI[in.UDI] = in
	t := st.totals(in.VirtualAccount)
	t.instances++
	for tag, n := range in.Usage {
		t.inUse[tag] += n
	}
	t.exportHeld += len(in.ExportKeys)
	if in.Reservation != nil {
		t.reserving[in.ID] = in
	}
}

func (st *State) indexRemove(in *Instance) {
	delete(st.idx.byUDI, in.UDI)
	t := st.totals(in.VirtualAccount)
	t.instances--
	for tag, n := range in.Usage {
		t.inUse[tag] -= n
	}
	t.exportHeld -= len(in.ExportKeys)
	delete(t.reserving, in.ID)
}

func (st *State) addInstance(in *Instance) {
	st.Instances[in.ID] = in
	st.indexAdd(in)
}

// removeInstance drops the instance; its usage and export keys go back to the pool.
func (st *State) removeInstance(in *Instance) {
	st.indexRemove(in)
	delete(st.Instances, in.ID)
}

func (st *State) setUsage(in *Instance, usage map[string]int) {
	st.indexRemove(in)
	in.Usage = usage
	st.indexAdd(in)
}

func (st *State) holdExportKey(in *Instance, feature string) {
	in.ExportKeys = append(in.ExportKeys, feature)
	st.totals(in.VirtualAccount).exportHeld++
}

func (st *State) releaseExportKey(in *Instance, feature string) {
	in.ExportKeys = slices.DeleteFunc(in.ExportKeys, func(f string) bool { return f == feature })
	st.totals(in.VirtualAccount).exportHeld--
}

func (st *State) findVA(name string) (*SmartAccount, *VirtualAccount) {
	for _, sa := range st.SmartAccounts {
		for _, va := range sa.VirtualAccounts {
			if va.Name == name {
				return sa, va
			}
		}
	}
	return nil, nil
}

func (st *State) findSA(name string) *SmartAccount {
	for _, sa := range st.SmartAccounts {
		if sa.Name == name {
			return sa
		}
	}
	return nil
}
