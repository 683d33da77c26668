package cssm

import (
	"maps"
	"slices"
	"time"
)

// schemaVersion is the "version" of cssm.json that cssm imports.
const schemaVersion = 1

// Licence types.
const (
	Perpetual = "PERPETUAL"
	Term      = "TERM"
)

// State is one transaction's view of the store: entities are read from the
// database when first asked for and kept for the rest of the transaction;
// what changed is written back when the transaction commits (flush). Change
// it only inside Store.Update (or a server operation) and only through the
// methods below, which keep the aggregates right.
type State struct {
	tx *dbTx

	accounts    []*SmartAccount // nil until loaded
	accountSnap map[string][]byte

	tokens    map[string]*Token // nil value: known not to exist
	tokenSnap map[string][]byte

	insts    map[string]*Instance // by id; nil value: known not to exist
	instSnap map[string]*Instance // as read, for the write-back
	byUDI    map[string]string    // udi -> id, "" for none

	totalsCache map[string]*vaTotals
	totalsSnap  map[string][]byte

	stamps     map[string]time.Time
	stampDirty map[string]bool

	idem      map[string]*IdempotencyRecord
	idemDirty map[string]bool
	pruneTo   time.Time // records created before this go at flush

	// The event log (events.go): who acts ("" for a product) and when.
	actor  string
	now    time.Time
	events []pendingEvent
}

// jsonState is the whole of an old cssm.json, as imported on first start.
type jsonState struct {
	Version           int                  `json:"version"`
	SmartAccounts     []*SmartAccount      `json:"smart_accounts"`
	Tokens            map[string]*Token    `json:"tokens"`
	Instances         map[string]*Instance `json:"instances,omitempty"`
	ReservationStamps map[string]time.Time `json:"reservation_timestamps,omitempty"`
	// Idempotency: the answers the JSON store recorded (cssm before the database).
	Idempotency map[string]*IdempotencyRecord `json:"idempotency,omitempty"`
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
	Description    string    `json:"description,omitempty"`
	Revoked        time.Time `json:"revoked,omitzero"`
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

// vaTotals are a virtual account's aggregates, kept up to date by every change
// instead of summed over its instances: authorize and `cssm usage` cost the
// same with ten products or a million.
type vaTotals struct {
	Instances  int            `json:"instances"`
	InUse      map[string]int `json:"in_use"` // tag -> sum of the instances' last reports
	ExportHeld int            `json:"export_held"`
}

func (st *State) indexAdd(in *Instance) {
	st.byUDI[in.UDI] = in.ID
	t := st.totals(in.VirtualAccount)
	t.Instances++
	for tag, n := range in.Usage {
		t.InUse[tag] += n
	}
	t.ExportHeld += len(in.ExportKeys)
}

func (st *State) indexRemove(in *Instance) {
	if st.byUDI[in.UDI] == in.ID {
		st.byUDI[in.UDI] = ""
	}
	t := st.totals(in.VirtualAccount)
	t.Instances--
	for tag, n := range in.Usage {
		if t.InUse[tag] -= n; t.InUse[tag] == 0 {
			delete(t.InUse, tag)
		}
	}
	t.ExportHeld -= len(in.ExportKeys)
}

func (st *State) addInstance(in *Instance) {
	st.insts[in.ID] = in // new: flush inserts it
	st.indexAdd(in)
	st.instanceEvent(in, EventInstanceAdded, instanceName(in), len(in.Usage) > 0)
}

// removeInstance drops the instance; its usage and export keys go back to the pool.
func (st *State) removeInstance(in *Instance) {
	st.indexRemove(in)
	st.insts[in.ID] = nil
	st.instanceEvent(in, EventInstanceRemoved, instanceName(in), len(in.Usage) > 0)
}

func (st *State) setUsage(in *Instance, usage map[string]int) {
	changed := !maps.Equal(in.Usage, usage)
	st.indexRemove(in)
	in.Usage = usage
	st.indexAdd(in)
	if changed {
		st.instanceEvent(in, EventUsageChanged, instanceName(in)+": "+usageDetail(usage), true)
	}
}

func (st *State) holdExportKey(in *Instance, feature string) {
	in.ExportKeys = append(in.ExportKeys, feature)
	st.totals(in.VirtualAccount).ExportHeld++
}

func (st *State) releaseExportKey(in *Instance, feature string) {
	in.ExportKeys = slices.DeleteFunc(in.ExportKeys, func(f string) bool { return f == feature })
	st.totals(in.VirtualAccount).ExportHeld--
}

func (st *State) findVA(name string) (*SmartAccount, *VirtualAccount) {
	for _, sa := range st.smartAccounts() {
		for _, va := range sa.VirtualAccounts {
			if va.Name == name {
				return sa, va
			}
		}
	}
	return nil, nil
}

func (st *State) findSA(name string) *SmartAccount {
	for _, sa := range st.smartAccounts() {
		if sa.Name == name {
			return sa
		}
	}
	return nil
}
