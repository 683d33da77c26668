package cssm

import (
	"cmp"
	"crypto/ecdsa"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
	"github.com/ucmsh/ucmsh/reservation"
)

// Specific License Reservation on the licensing server: the portal reserves
// licences for a product's request code, signs an authorization code for it,
// takes the confirmation code the product shows once it installed the code, and
// takes the return code the product shows when it gives the licences back.

// Reservation states as `reservation list` and `instance list` show them.
const (
	ReservationInTransit       = "In Transit"             // issued, no confirmation code entered yet
	ReservationInstalled       = "Installed"              // the newest code was confirmed
	ReservationUpdateInTransit = "Update In Transit"      // a code was confirmed, a newer one was not
	ReservationForfeited       = "Removed Without Return" // instance removed with --force-without-return
)

// Reservation is the authorization codes cssm issued to one product that the
// product may hold: the one it confirmed installing, if any, then every code
// issued after it, oldest first. A product never installs a code older than
// the one it has, so earlier codes are dropped when a later one is confirmed.
type Reservation struct {
	Codes []IssuedCode `json:"codes"`
}

// IssuedCode is one signed authorization code. Its confirmation and return
// codes are derived from the code text (signature, UDI and timestamp).
type IssuedCode struct {
	Code          string            `json:"code"`      // the text as issued, on one line
	Timestamp     time.Time         `json:"timestamp"` // the code's <timestamp>, millisecond precision
	Licenses      []ReservedLicense `json:"licenses"`  // catalog order
	ExportAllowed bool              `json:"export_allowed,omitempty"`
	Confirmed     time.Time         `json:"confirmed,omitzero"`          // when its confirmation code was entered
	Confirmation  string            `json:"confirmation_code,omitempty"` // the confirmation code as entered
}

// ReservedLicense is one entitlement of an authorization code.
type ReservedLicense struct {
	Tag   string `json:"tag"`
	Count int    `json:"count"`
	Type  string `json:"type"`            // Perpetual or Term
	Start string `json:"start,omitempty"` // TERM: first day, YYYY-MM-DD
	End   string `json:"end,omitempty"`   // TERM: last day, YYYY-MM-DD
}

// ForfeitedReservation is a reservation whose product instance was removed
// without a return code. Its licences stay out of the pool; the product's
// return code, if it ever turns up, still gives them back.
type ForfeitedReservation struct {
	InstanceID  string      `json:"instance_id"`
	UDI         string      `json:"udi"`
	Removed     time.Time   `json:"removed"`
	Reservation Reservation `json:"reservation"`
}

func (r *Reservation) newest() *IssuedCode { return &r.Codes[len(r.Codes)-1] }

// State is one of the Reservation* states (never ReservationForfeited).
func (r *Reservation) State() string {
	switch {
	case !r.newest().Confirmed.IsZero():
		return ReservationInstalled
	case !r.Codes[0].Confirmed.IsZero():
		return ReservationUpdateInTransit
	default:
		return ReservationInTransit
	}
}

func (r *Reservation) clone() *Reservation {
	if r == nil {
		return nil
	}
	c := &Reservation{Codes: slices.Clone(r.Codes)}
	for i := range c.Codes {
		c.Codes[i].Licenses = slices.Clone(c.Codes[i].Licenses)
	}
	return c
}

func sameReservation(a, b *Reservation) bool {
	if a == nil || b == nil {
		return a == b
	}
	return slices.EqualFunc(a.Codes, b.Codes, func(x, y IssuedCode) bool {
		return x.Code == y.Code && x.Timestamp.Equal(y.Timestamp) && x.ExportAllowed == y.ExportAllowed &&
			x.Confirmed.Equal(y.Confirmed) && x.Confirmation == y.Confirmation && slices.Equal(x.Licenses, y.Licenses)
	})
}

// Pool arithmetic. A reservation holds, of each kind of licence (tag, type and
// TERM end), the largest count any of its codes names: the product holds one
// of those codes, and which one is known only once it confirms. So an update
// that lowers a count gives licences back when its code is confirmed, and one
// that raises a count takes them at once.

type holdKey struct{ Tag, Type, End string }

func (k holdKey) validAt(now time.Time) bool {
	return License{Type: k.Type, TermEnd: k.End}.validAt(now)
}

// held is what the reservation keeps out of the pool at now (TERM licences
// count through their last day, like the pool's own).
func (r *Reservation) held(now time.Time) map[holdKey]int {
	h := map[holdKey]int{}
	for _, c := range r.Codes {
		for _, l := range c.Licenses {
			if k := (holdKey{l.Tag, l.Type, l.End}); k.validAt(now) {
				h[k] = max(h[k], l.Count)
			}
		}
	}
	return h
}

func byTag(h map[holdKey]int) map[string]int {
	out := map[string]int{}
	for k, n := range h {
		out[k.Tag] += n
	}
	return out
}

// reservedIn is what every reservation of virtual account va holds, the
// forfeited ones included, leaving out the instance except (if not nil).
func (st *State) reservedIn(va *VirtualAccount, now time.Time, except *Instance) map[holdKey]int {
	out := map[holdKey]int{}
	add := func(r *Reservation) {
		for k, n := range r.held(now) {
			out[k] += n
		}
	}
	for _, in := range st.reservingIn(va.Name) {
		if in != except {
			add(in.Reservation)
		}
	}
	for _, f := range va.Forfeited {
		add(&f.Reservation)
	}
	return out
}

// balances is the virtual account's standing, reservations included.
func (st *State) balances(va *VirtualAccount, now time.Time) []Balance {
	return Balances(va.Licenses, st.inUse(va.Name, now), byTag(st.reservedIn(va, now, nil)), now)
}

// checkPool refuses a reservation (self, nil for a new one) going from holding
// old to holding want when the pool cannot cover what it adds. Nothing that
// does not grow is refused, so lowering a reservation always works.
//
// Three checks, per tier that grows: the licences free to reserve are the
// tier's balance as `cssm usage` shows it with this reservation left out (its
// purchases less other reservations and the use products report, after tier
// substitution, so no one else's compliance changes); perpetual reservations
// come from perpetual licences; and a TERM reservation ending on a day comes
// from TERM licences lasting at least that long.
func (st *State) checkPool(va *VirtualAccount, self *Instance, old, want map[holdKey]int, now time.Time) error {
	others := st.reservedIn(va, now, self)
	oldTag, wantTag := byTag(old), byTag(want)
	for _, b := range Balances(va.Licenses, st.inUse(va.Name, now), byTag(others), now) {
		if n := wantTag[b.Tag]; n > oldTag[b.Tag] && n > max(0, b.Balance()) {
			return errPoolShort(va.Name, b, n)
		}
	}
	checked := map[holdKey]bool{}
	for _, k := range slices.SortedFunc(maps.Keys(want), compareHold) {
		if want[k] <= old[k] {
			continue
		}
		if k.Type == Perpetual {
			var have, taken, need int
			for _, l := range va.Licenses {
				if l.Tag == k.Tag && l.Type == Perpetual {
					have += l.Count
				}
			}
			taken = others[k]
			need = want[k]
			if need > have-taken {
				return errPerpetualShort(va.Name, k.Tag, need, have, taken)
			}
			continue
		}
		tagKey := holdKey{Tag: k.Tag, Type: Term}
		if checked[tagKey] {
			continue
		}
		checked[tagKey] = true
		if err := checkTermPool(va, k.Tag, others, want, now); err != nil {
			return err
		}
	}
	return nil
}

func compareHold(a, b holdKey) int {
	return cmp.Or(cmp.Compare(tierRank(a.Tag), tierRank(b.Tag)), cmp.Compare(a.Type, b.Type), cmp.Compare(a.End, b.End))
}

// checkTermPool checks, for every end day E that a TERM reservation of tag
// names, that the TERM licences lasting through E cover every TERM
// reservation of tag ending on or after E (Hall's condition for these nested
// sets, so some assignment of reservations to licences exists).
func checkTermPool(va *VirtualAccount, tag string, others, want map[holdKey]int, now time.Time) error {
	var ends []string
	for _, h := range []map[holdKey]int{others, want} {
		for k := range h {
			if k.Tag == tag && k.Type == Term {
				ends = append(ends, k.End)
			}
		}
	}
	slices.Sort(ends)
	for _, e := range slices.Compact(ends) {
		have, taken, need := 0, 0, 0
		for _, l := range va.Licenses {
			if l.Tag == tag && l.Type == Term && l.validAt(now) && l.TermEnd >= e {
				have += l.Count
			}
		}
		for k, n := range others {
			if k.Tag == tag && k.Type == Term && k.End >= e {
				taken += n
			}
		}
		for k, n := range want {
			if k.Tag == tag && k.Type == Term && k.End >= e {
				need += n
			}
		}
		if need > have-taken {
			return errTermShort(va.Name, tag, e, need, have, taken)
		}
	}
	return nil
}

// LicenseRequest is one licence asked for on `reservation create|update`:
// TIER=N, TIER=N:PERPETUAL, TIER=N:TERM (ending with the latest TERM licence
// of the tier in the pool) or TIER=N:TERM:YYYY-MM-DD. TIER is a tier name or a
// full entitlement tag.
type LicenseRequest struct {
	Tag   string
	Count int
	Type  string // Perpetual or Term
	End   string // TERM: last day, YYYY-MM-DD; empty for the pool's latest
}

var licenseSyntax = regexp.MustCompile(`^([^=]+)=(\d{1,7})(?::([A-Za-z]+)(?::(\S+))?)?$`)

// ParseLicenseRequest reads one --license value.
func ParseLicenseRequest(s string) (LicenseRequest, error) {
	s = strings.TrimSpace(s)
	m := licenseSyntax.FindStringSubmatch(s)
	if m == nil {
		return LicenseRequest{}, errLicenseSyntax(s)
	}
	m[1] = strings.TrimSpace(m[1])
	e, ok := cssmapi.LookupTier(m[1])
	if !ok {
		if e, ok = cssmapi.LookupTag(m[1]); !ok {
			return LicenseRequest{}, errLicenseTier(s, m[1])
		}
	}
	n, _ := strconv.Atoi(m[2])
	if n < 1 || n > reservation.MaxCount {
		return LicenseRequest{}, errLicenseCount(s, n)
	}
	r := LicenseRequest{Tag: e.Tag, Count: n, Type: Perpetual}
	switch strings.ToUpper(m[3]) {
	case "", Perpetual:
		if m[4] != "" {
			return LicenseRequest{}, errLicenseSyntax(s)
		}
	case Term:
		r.Type = Term
		if m[4] != "" {
			end, err := time.Parse(time.DateOnly, m[4])
			if err != nil {
				return LicenseRequest{}, errLicenseDate(s, m[4])
			}
			r.End = end.Format(time.DateOnly)
		}
	default:
		return LicenseRequest{}, errLicenseSyntax(s)
	}
	return r, nil
}

// resolveLicenses turns requests into a code's entitlements: one per tier, in
// catalog order, TERM ones from today through their end day.
func resolveLicenses(va *VirtualAccount, reqs []LicenseRequest, now time.Time) ([]ReservedLicense, error) {
	if len(reqs) == 0 {
		return nil, errNoLicenses()
	}
	today := now.UTC().Format(time.DateOnly)
	seen := map[string]bool{}
	var out []ReservedLicense
	for _, r := range reqs {
		if _, ok := cssmapi.LookupTag(r.Tag); !ok {
			return nil, errTag(r.Tag)
		}
		if seen[r.Tag] {
			return nil, errLicenseTwice(tierName(r.Tag))
		}
		seen[r.Tag] = true
		if r.Count < 1 || r.Count > reservation.MaxCount {
			return nil, errLicenseCount(tierName(r.Tag), r.Count)
		}
		l := ReservedLicense{Tag: r.Tag, Count: r.Count, Type: Perpetual}
		if r.Type == Term {
			l.Type, l.Start, l.End = Term, today, r.End
			if l.End == "" {
				for _, p := range va.Licenses {
					if p.Tag == r.Tag && p.Type == Term && p.validAt(now) && p.TermEnd > l.End {
						l.End = p.TermEnd
					}
				}
				if l.End == "" {
					return nil, errNoTermLicences(va.Name, tierName(r.Tag))
				}
			}
			if l.End < today {
				return nil, errReserveEnded(tierName(r.Tag), l.End, today)
			}
		}
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b ReservedLicense) int { return cmp.Compare(tierRank(a.Tag), tierRank(b.Tag)) })
	return out, nil
}

// tierRank is a tag's place in the catalog.
func tierRank(tag string) int {
	return slices.IndexFunc(cssmapi.AllEntitlements, func(e cssmapi.Entitlement) bool { return e.Tag == tag })
}

func tierName(tag string) string {
	if e, ok := cssmapi.LookupTag(tag); ok {
		return e.Tier
	}
	return tag
}

// FormatLicenses writes licences the way --license takes them:
// "Enhanced=5, Basic=3, CUWL=2:TERM:2027-12-31".
func FormatLicenses(list []ReservedLicense) string {
	if len(list) == 0 {
		return "none"
	}
	parts := make([]string, len(list))
	for i, l := range list {
		parts[i] = tierName(l.Tag) + "=" + strconv.Itoa(l.Count)
		if l.Type == Term {
			parts[i] += ":" + Term + ":" + l.End
		}
	}
	return strings.Join(parts, ", ")
}

// heldLicenses lists what a reservation holds, for messages.
func heldLicenses(h map[holdKey]int) []ReservedLicense {
	var out []ReservedLicense
	for _, k := range slices.SortedFunc(maps.Keys(h), compareHold) {
		if h[k] > 0 {
			out = append(out, ReservedLicense{Tag: k.Tag, Count: h[k], Type: k.Type, End: k.End})
		}
	}
	return out
}

// nextStamp is the timestamp of the next code for udi: cssm's clock in whole
// milliseconds, or one millisecond after the previous code for udi if that is
// not earlier, so a product always sees each new code as newer.
func (st *State) nextStamp(udi string, now time.Time) time.Time {
	t := time.UnixMilli(now.UnixMilli()).UTC()
	if last, ok := st.stamp(udi); ok && !t.After(last) {
		t = last.Add(time.Millisecond)
	}
	st.setStamp(udi, t)
	return t
}

// sign issues an authorization code.
func sign(key *ecdsa.PrivateKey, udi reservation.UDI, piid string, ts time.Time, lic []ReservedLicense, export bool) (IssuedCode, error) {
	ac := &reservation.AuthCode{Flag: "A", Version: "C", PIID: piid, Timestamp: ts, ExportAllowed: export, UDI: udi}
	for _, l := range lic {
		e, _ := cssmapi.LookupTag(l.Tag)
		ent := reservation.Entitlement{Tag: l.Tag, Count: l.Count, Type: l.Type, DisplayName: e.DisplayName, Description: e.Description()}
		if l.Type == Term {
			ent.Start, _ = time.Parse(time.DateOnly, l.Start)
			ent.End, _ = time.Parse(time.DateOnly, l.End)
		}
		ac.Entitlements = append(ac.Entitlements, ent)
	}
	text, err := reservation.Sign(key, ac)
	if err != nil {
		return IssuedCode{}, errCannotSign(err)
	}
	return IssuedCode{Code: text, Timestamp: ts, Licenses: lic, ExportAllowed: export}, nil
}

// parsed reads back a code cssm issued.
func (c *IssuedCode) parsed() (*reservation.AuthCode, error) {
	ac, err := reservation.ParseAuthCode(c.Code)
	if err != nil {
		return nil, errStoredCode(err)
	}
	return ac, nil
}

// matchReturn reports which of the reservation's codes code is the return
// code of, or -1.
func (r *Reservation) matchReturn(code string) (int, error) {
	for i := range r.Codes {
		ac, err := r.Codes[i].parsed()
		if err != nil {
			return -1, err
		}
		if reservation.VerifyReturnCode(code, ac) {
			return i, nil
		}
	}
	return -1, nil
}
