package cssm

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
)

// Operations the web portal needs beyond the command-line ones. Each is also
// what the REST API and the cssm subcommands call, so the three agree.

// AccountTree is a smart account with its virtual accounts' names.
type AccountTree struct {
	Name    string
	Virtual []string
}

// AccountTree lists smart accounts and their virtual accounts, sorted by name.
func (p *Portal) AccountTree() ([]AccountTree, error) {
	var out []AccountTree
	err := p.Store.View(func(st *State) error {
		for _, sa := range st.smartAccounts() {
			t := AccountTree{Name: sa.Name}
			for _, va := range sa.VirtualAccounts {
				t.Virtual = append(t.Virtual, va.Name)
			}
			slices.Sort(t.Virtual)
			out = append(out, t)
		}
		return nil
	})
	slices.SortFunc(out, func(a, b AccountTree) int { return strings.Compare(a.Name, b.Name) })
	return out, err
}

// CheckUser verifies a user's password and returns the user's grants.
func (p *Portal) CheckUser(name, password string) (a Access, ok bool, err error) {
	err = p.Store.View(func(st *State) error {
		a, ok = st.checkUser(name, password)
		return nil
	})
	return a, ok, err
}

// UserAccess is a user's grants as they are now (an admin may have changed them
// since the user signed in).
func (p *Portal) UserAccess(name string) (a Access, err error) {
	err = p.Store.View(func(st *State) error {
		a = st.userAccess(name)
		return nil
	})
	return a, err
}

type tokenRow struct {
	text string
	t    *Token
	info tokenInfo
}

// tokensOf is a virtual account's tokens (every account's when va is ""),
// usable ones first (a client registers with the first), newest first: the
// list of the portal, the REST API and cssm token list.
func (st *State) tokensOf(va string, now time.Time) []tokenRow {
	var rows []tokenRow
	var text, data string
	query, args := `SELECT token, data FROM tokens`, []any(nil)
	if va != "" {
		query, args = query+` WHERE va = ?`, []any{va}
	}
	st.tx.rows(query, args, func() {
		t := &Token{}
		if json.Unmarshal([]byte(data), t) == nil {
			rows = append(rows, tokenRow{text, t, infoOf(text, t, now)})
		}
	}, &text, &data)
	slices.SortStableFunc(rows, func(a, b tokenRow) int {
		if au, bu := a.info.Status == "VALID", b.info.Status == "VALID"; au != bu {
			if au {
				return -1
			}
			return 1
		}
		if c := b.t.Created.Compare(a.t.Created); c != 0 {
			return c
		}
		return strings.Compare(a.text, b.text)
	})
	return rows
}

// revokeToken revokes a token of virtual account va (again is no change).
func (st *State) revokeToken(va, text string, now time.Time) bool {
	t := st.token(strings.TrimSpace(text))
	if t == nil || t.VirtualAccount != va {
		return false
	}
	if t.Revoked.IsZero() {
		t.Revoked = now
		st.event(va, EventTokenRevoked, shorten(text))
	}
	return true
}

// RevokeToken revokes a token of virtual account virtual.
func (p *Portal) RevokeToken(virtual, text string) (string, error) {
	now := p.Clock.Now()
	err := p.update(func(st *State) error {
		if _, va := st.findVA(virtual); va == nil {
			return errNoVA(virtual)
		}
		if !st.revokeToken(virtual, text, now) {
			return errNoToken(virtual, shorten(text))
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return msgTokenRevoked(shorten(text), virtual), nil
}

// TransferInstance moves a product instance to another virtual account of the
// same smart account, as the portal's "Transfer" does: its licences in use are
// counted there from now on, and a reservation's licences move with it, so
// the target must have them available.
func (p *Portal) TransferInstance(id, to string) (string, error) {
	id, to = strings.TrimSpace(id), strings.TrimSpace(to)
	now := p.Clock.Now()
	var msg string
	err := p.update(func(st *State) error {
		in := st.instance(id)
		if in == nil {
			return errNoInstance(id)
		}
		fromSA, _ := st.findVA(in.VirtualAccount)
		toSA, target := st.findVA(to)
		if target == nil {
			return errNoVA(to)
		}
		if in.VirtualAccount == to {
			return errTransferSame(to)
		}
		if fromSA == nil || fromSA.Name != toSA.Name {
			return errTransferSmart(to, toSA.Name)
		}
		if in.Reservation != nil {
			if err := st.checkPool(target, nil, nil, in.Reservation.held(now), now); err != nil {
				return err
			}
		}
		from := in.VirtualAccount
		st.indexRemove(in)
		in.VirtualAccount = to
		st.indexAdd(in)
		usage := len(in.Usage) > 0
		in.VirtualAccount = from
		st.instanceEvent(in, EventInstanceTransferred, instanceName(in)+" to "+to, usage)
		in.VirtualAccount = to
		st.instanceEvent(in, EventInstanceTransferred, instanceName(in)+" from "+from, usage)
		msg = msgTransferred(in, from, to)
		return nil
	})
	return msg, err
}

// Alert is one line of the portal's Alerts.
type Alert struct {
	Severity string // "Major", "Minor", "Info"
	Kind     string
	Message  string
}

// Alert kinds, as the CSSM portal groups them.
const (
	AlertInsufficient   = "Insufficient Licenses"
	AlertFailedRenew    = "Failed to Renew"
	AlertFailedConnect  = "Failed to Connect"
	AlertExpiring       = "Licenses Expiring"
	AlertReturned       = "Reserved Licenses Returned"
	renewOverdue        = 30 * 24 * time.Hour // a registered product renews its authorization every 30 days
	connectOverdue      = 90 * 24 * time.Hour // no contact at all for 90 days
	returnedAlertWindow = 30 * 24 * time.Hour // how long a return stays on the alerts
	maxAlertInstances   = 10000               // instances looked at for renew/connect alerts
)

// ExpiryWarningDays are the days before a term licence ends when CSSM warns.
var ExpiryWarningDays = []int{90, 60, 30, 14, 7, 3, 1}

// AlertSources are more alerts for a virtual account, added by other parts of
// cssm (the satellite adds "synchronization overdue"); each runs inside the
// portal's read transaction.
var AlertSources []func(st *State, virtual string, now time.Time) []Alert

// Alerts lists a virtual account's alerts, most severe first.
func (p *Portal) Alerts(virtual string) ([]Alert, error) {
	now := p.Clock.Now()
	var out []Alert
	err := p.Store.View(func(st *State) error {
		_, va := st.findVA(virtual)
		if va == nil {
			return errNoVA(virtual)
		}
		for _, b := range st.balances(va, now) {
			if s := b.Short(); s > 0 {
				out = append(out, Alert{"Major", AlertInsufficient, fmt.Sprintf("%s: %d in use, %d short.", b.DisplayName, b.InUse, s)})
			}
		}
		today := now.UTC().Truncate(24 * time.Hour)
		for _, l := range va.Licenses {
			if l.Type != Term || !l.validAt(now) {
				continue
			}
			end, err := time.Parse(time.DateOnly, l.TermEnd)
			if err != nil {
				continue
			}
			left := int(end.Sub(today)/(24*time.Hour)) + 1 // the last day counts
			for i := len(ExpiryWarningDays) - 1; i >= 0; i-- {
				if left <= ExpiryWarningDays[i] {
					e, _ := cssmapi.LookupTag(l.Tag)
					sev := "Minor"
					if left <= 7 {
						sev = "Major"
					}
					out = append(out, Alert{sev, AlertExpiring, fmt.Sprintf("%d %s expire on %s: within %d days.", l.Count, e.DisplayName, l.TermEnd, ExpiryWarningDays[i])})
					break
				}
			}
		}
		for _, in := range st.listInstances(virtual, InstanceCursor{}, maxAlertInstances) {
			if in.Reservation != nil {
				continue
			}
			switch idle := now.Sub(in.LastSeen); {
			case idle >= connectOverdue:
				out = append(out, Alert{"Major", AlertFailedConnect, fmt.Sprintf("%s has not connected since %s.", instanceName(&in), in.LastSeen.UTC().Format(time.DateOnly))})
			case idle >= renewOverdue:
				out = append(out, Alert{"Minor", AlertFailedRenew, fmt.Sprintf("%s has not renewed its authorization since %s.", instanceName(&in), in.LastSeen.UTC().Format(time.DateOnly))})
			}
		}
		var at int64
		var detail string
		st.tx.rows(`SELECT at, detail FROM events WHERE va = ? AND kind = ? AND at >= ? ORDER BY seq DESC`, []any{virtual, EventReservationReturned, now.Add(-returnedAlertWindow).Unix()}, func() {
			out = append(out, Alert{"Info", AlertReturned, fmt.Sprintf("%s: %s.", time.Unix(at, 0).UTC().Format(time.DateOnly), detail)})
		}, &at, &detail)
		for _, src := range AlertSources {
			out = append(out, src(st, virtual, now)...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Synchronization alerts (satellite.go) concern the whole store: shown with every account's.
	sas, err := p.SatelliteAlerts()
	for _, a := range sas {
		last := "never"
		if !a.LastSync.IsZero() {
			last = a.LastSync.UTC().Format(time.DateOnly)
		}
		out = append(out, Alert{"Major", a.Message, fmt.Sprintf("Satellite %q: last synchronized %s.", a.Satellite, last)})
	}
	rank := map[string]int{"Major": 0, "Minor": 1, "Info": 2}
	slices.SortStableFunc(out, func(a, b Alert) int { return rank[a.Severity] - rank[b.Severity] })
	return out, err
}
