package cssm

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
)

// The event log: every change to an account, with its time and who made it
// (a portal or REST user, a cssm subcommand, or a product), written in the
// transaction that makes the change. Events that change the licences in use
// carry the account's new totals: the usage history the portal's charts draw.

// Event kinds.
const (
	EventAccountCreated      = "account created"
	EventLicenseAdded        = "licenses added"
	EventExportKeysAdded     = "export keys added"
	EventTokenCreated        = "token created"
	EventTokenRevoked        = "token revoked"
	EventInstanceAdded       = "instance added"
	EventInstanceRemoved     = "instance removed"
	EventInstanceTransferred = "instance transferred"
	EventUsageChanged        = "usage changed"
	EventReservation         = "reservation"
	EventReservationReturned = "reserved licenses returned"
)

// Event is one line of the event log.
type Event struct {
	Seq            int64
	Time           time.Time
	VirtualAccount string
	Actor          string
	Kind           string
	Detail         string
}

// UsagePoint is a virtual account's licences in use (tag -> count) from Time on.
type UsagePoint struct {
	Time  time.Time
	InUse map[string]int
}

type pendingEvent struct {
	Event
	usage string
}

// CLIActor is who a cssm subcommand acts as.
const CLIActor = "cssm (command line)"

// As is the portal acting for user: the event log names them.
func (p *Portal) As(user string) *Portal {
	q := *p
	q.Actor = user
	return &q
}

func (p *Portal) actor() string {
	if p.Actor == "" {
		return CLIActor
	}
	return p.Actor
}

// update is Store.Update with the portal's actor and time, for the event log.
func (p *Portal) update(fn func(*State) error) error {
	now := p.Clock.Now()
	return p.Store.Update(func(st *State) error {
		st.actor, st.now = p.actor(), now
		return fn(st)
	})
}

// event records a change of virtual account va.
func (st *State) event(va, kind, detail string) {
	st.events = append(st.events, pendingEvent{Event: Event{Time: st.now, VirtualAccount: va, Actor: st.actor, Kind: kind, Detail: detail}})
}

// instanceEvent records a change to in, by its product when no one else acts.
func (st *State) instanceEvent(in *Instance, kind, detail string, usageChanged bool) {
	actor := st.actor
	if actor == "" {
		actor = "product " + in.Hostname
	}
	e := pendingEvent{Event: Event{Time: st.now, VirtualAccount: in.VirtualAccount, Actor: actor, Kind: kind, Detail: detail}}
	if usageChanged {
		e.usage = "pending" // the totals after the whole transaction, filled at flush
	}
	st.events = append(st.events, e)
}

func instanceName(in *Instance) string {
	if in.Hostname != "" {
		return in.Hostname + " (" + in.UDI + ")"
	}
	return in.UDI
}

// flushEvents writes the transaction's events after the entities.
func (st *State) flushEvents() {
	if len(st.events) == 0 {
		return
	}
	var seq int64
	st.tx.row(`SELECT COALESCE(MAX(seq), 0) FROM events`, nil, &seq)
	for _, e := range st.events {
		usage := ""
		if e.usage != "" {
			t := st.totals(e.VirtualAccount)
			b, _ := json.Marshal(maps.Clone(t.InUse))
			usage = string(b)
		}
		seq++
		st.tx.exec(`INSERT INTO events (seq, at, va, actor, kind, detail, usage) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			seq, e.Time.Unix(), e.VirtualAccount, e.Actor, e.Kind, e.Detail, usage)
	}
	st.events = nil
}

// MaxEvents bounds one listing of the event log.
const MaxEvents = 10000

// Events lists a virtual account's events, newest first, at most limit, those
// whose kind, actor or detail contains filter (ignoring case) if it is not empty.
func (p *Portal) Events(virtual, filter string, limit int) ([]Event, error) {
	limit = min(max(limit, 1), MaxEvents)
	filter = strings.ToLower(strings.TrimSpace(filter))
	var out []Event
	err := p.Store.View(func(st *State) error {
		if _, va := st.findVA(virtual); va == nil {
			return errNoVA(virtual)
		}
		var e Event
		var at int64
		st.tx.rows(`SELECT seq, at, va, actor, kind, detail FROM events WHERE va = ? ORDER BY seq DESC`, []any{virtual}, func() {
			if len(out) >= limit {
				return
			}
			if filter != "" && !strings.Contains(strings.ToLower(e.Kind+"\x00"+e.Actor+"\x00"+e.Detail), filter) {
				return
			}
			e.Time = time.Unix(at, 0).UTC()
			out = append(out, e)
		}, &e.Seq, &at, &e.VirtualAccount, &e.Actor, &e.Kind, &e.Detail)
		return nil
	})
	return out, err
}

// UsageHistory is a virtual account's licences in use over time, oldest first.
func (p *Portal) UsageHistory(virtual string) ([]UsagePoint, error) {
	var out []UsagePoint
	err := p.Store.View(func(st *State) error {
		if _, va := st.findVA(virtual); va == nil {
			return errNoVA(virtual)
		}
		var at int64
		var usage string
		st.tx.rows(`SELECT at, usage FROM events WHERE va = ? AND usage <> '' ORDER BY seq`, []any{virtual}, func() {
			pt := UsagePoint{Time: time.Unix(at, 0).UTC(), InUse: map[string]int{}}
			if json.Unmarshal([]byte(usage), &pt.InUse) == nil {
				out = append(out, pt)
			}
		}, &at, &usage)
		return nil
	})
	return out, err
}

func usageDetail(usage map[string]int) string {
	var parts []string
	for _, e := range cssmapi.Entitlements {
		if n := usage[e.Tag]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", e.Tier, n))
		}
	}
	if parts == nil {
		return "no licenses in use"
	}
	return strings.Join(parts, ", ")
}

func licenseEventDetail(l License, e cssmapi.Entitlement) string {
	d := fmt.Sprintf("%d %s, %s", l.Count, e.DisplayName, l.Type)
	if l.TermEnd != "" {
		d += " until " + l.TermEnd
	}
	return d
}

func tokenDetail(text string, t *Token) string {
	d := fmt.Sprintf("%s, expires %s", shorten(text), t.Expires.UTC().Format(time.DateOnly))
	if t.Description != "" {
		d += ", " + t.Description
	}
	if t.AllowExport {
		d += ", export-controlled allowed"
	}
	return d
}

func reservedDetail(lic []ReservedLicense) string {
	var parts []string
	for _, l := range lic {
		name := l.Tag
		if e, ok := cssmapi.LookupTag(l.Tag); ok {
			name = e.Tier
		}
		parts = append(parts, fmt.Sprintf("%s %d", name, l.Count))
	}
	return strings.Join(parts, ", ")
}
