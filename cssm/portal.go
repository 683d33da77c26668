package cssm

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/ucmsh/ucmsh/cssmapi"
)

// Portal is what an admin does on the CSSM web portal, against a store that a
// running `cssm serve` may share.
type Portal struct {
	Store *Store
	Clock Clock
	Actor string // who acts, for the event log; "" is the command line (CLIActor)
}

func checkName(what, name string) error {
	if name == "" || len(name) > 100 || strings.ContainsFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return errName(what, name)
	}
	return nil
}

// CreateAccount creates virtual account virtual in smart account smart, creating
// the smart account if it is new. Virtual account names are unique in the store.
func (p *Portal) CreateAccount(smart, virtual string) (string, error) {
	if err := checkName("smart account name", smart); err != nil {
		return "", err
	}
	if err := checkName("virtual account name", virtual); err != nil {
		return "", err
	}
	now := p.Clock.Now()
	err := p.update(func(st *State) error {
		if sa, _ := st.findVA(virtual); sa != nil {
			return errVAExists(virtual, sa.Name)
		}
		sa := st.findSA(smart)
		if sa == nil {
			sa = &SmartAccount{Name: smart, Created: now}
			st.addSmartAccount(sa)
		}
		sa.VirtualAccounts = append(sa.VirtualAccounts, &VirtualAccount{Name: virtual, Created: now, Licenses: []License{}})
		st.event(virtual, EventAccountCreated, "in smart account "+smart)
		return nil
	})
	if err != nil {
		return "", err
	}
	return msgAccountCreated(smart, virtual), nil
}

// LicenseSpec names an entitlement by full tag or by tier name.
type LicenseSpec struct {
	Tag, Tier string
	Count     int
	TermEnd   string // YYYY-MM-DD, empty for perpetual
}

// AddLicense adds licences to a virtual account's pool.
func (p *Portal) AddLicense(virtual string, spec LicenseSpec) (string, error) {
	var e cssmapi.Entitlement
	var ok bool
	if spec.Tier != "" {
		if e, ok = cssmapi.LookupTier(spec.Tier); !ok {
			return "", errTier(spec.Tier)
		}
	} else if e, ok = cssmapi.LookupTag(strings.TrimSpace(spec.Tag)); !ok {
		return "", errTag(spec.Tag)
	}
	if spec.Count <= 0 {
		return "", errCount("--count", spec.Count)
	}
	now := p.Clock.Now()
	l := License{Tag: e.Tag, Count: spec.Count, Type: Perpetual, Added: now}
	if spec.TermEnd != "" {
		today := now.UTC().Truncate(24 * time.Hour)
		end, err := time.Parse(time.DateOnly, spec.TermEnd)
		if err != nil || end.Before(today) {
			return "", errTermEnd(spec.TermEnd, today)
		}
		l.Type, l.TermEnd = Term, end.Format(time.DateOnly)
	}
	err := p.update(func(st *State) error {
		_, va := st.findVA(virtual)
		if va == nil {
			return errNoVA(virtual)
		}
		va.Licenses = append(va.Licenses, l)
		st.event(virtual, EventLicenseAdded, licenseEventDetail(l, e))
		return nil
	})
	if err != nil {
		return "", err
	}
	return msgLicenseAdded(l, e, virtual), nil
}

// AddExportKeys grows a virtual account's export key pool.
func (p *Portal) AddExportKeys(virtual string, n int) (string, error) {
	if n <= 0 {
		return "", errCount("--count", n)
	}
	var total int
	err := p.update(func(st *State) error {
		_, va := st.findVA(virtual)
		if va == nil {
			return errNoVA(virtual)
		}
		va.ExportKeys += n
		total = va.ExportKeys
		st.event(virtual, EventExportKeysAdded, fmt.Sprintf("%d (pool %d)", n, total))
		return nil
	})
	if err != nil {
		return "", err
	}
	return msgExportKeysAdded(n, total, virtual), nil
}

// TokenOptions are the choices of the portal's "New Token" dialogue.
type TokenOptions struct {
	ExpiresDays int // 1 to 365, as on CSSM
	MaxUses     int // 0: unlimited
	AllowExport bool
	Description string // at most 100 printable characters
}

// CreateToken creates a registration token and returns it: 60 random bytes in
// base64url, 80 characters, about the length of a real CSSM token.
func (p *Portal) CreateToken(virtual string, opt TokenOptions) (string, error) {
	now := p.Clock.Now()
	var text string
	err := p.update(func(st *State) error {
		if _, va := st.findVA(virtual); va == nil {
			return errNoVA(virtual)
		}
		var t *Token
		var err error
		if text, t, err = newToken(virtual, opt, now); err != nil {
			return err
		}
		st.putToken(text, t)
		st.event(virtual, EventTokenCreated, tokenDetail(text, t))
		return nil
	})
	if err != nil {
		return "", err
	}
	return text, nil
}

// newToken makes a token of virtual account va, checking the options.
func newToken(va string, opt TokenOptions, now time.Time) (string, *Token, error) {
	if opt.ExpiresDays < 1 || opt.ExpiresDays > 365 {
		return "", nil, errExpiresDays(opt.ExpiresDays)
	}
	if opt.MaxUses < 0 {
		return "", nil, errUses(opt.MaxUses)
	}
	if opt.Description != "" && checkName("token description", opt.Description) != nil {
		return "", nil, errDescription(len(opt.Description))
	}
	return randomText(60), &Token{
		VirtualAccount: va,
		Created:        now,
		Expires:        now.Add(time.Duration(opt.ExpiresDays) * 24 * time.Hour),
		MaxUses:        opt.MaxUses,
		AllowExport:    opt.AllowExport,
		Description:    opt.Description,
	}, nil
}

// InstanceCursor is where a page of instances ends: the next page starts
// after it. The zero cursor is the start.
type InstanceCursor struct{ VirtualAccount, Hostname, ID string }

// MaxInstancePage bounds one page of InstancePage.
const MaxInstancePage = 1000

// InstancePage lists up to limit product instances after the cursor, of one
// virtual account if virtual is not empty, ordered by virtual account, host
// name and id, and returns the cursor of the next page (zero after the last).
func (p *Portal) InstancePage(virtual string, after InstanceCursor, limit int) ([]Instance, InstanceCursor, error) {
	limit = min(max(limit, 1), MaxInstancePage)
	var out []Instance
	err := p.Store.View(func(st *State) error {
		if virtual != "" {
			if _, va := st.findVA(virtual); va == nil {
				return errNoVA(virtual)
			}
		}
		out = st.listInstances(virtual, after, limit+1)
		return nil
	})
	var next InstanceCursor
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = InstanceCursor{last.VirtualAccount, last.Hostname, last.ID}
	}
	return out, next, err
}

// CursorAfter is the cursor just after instance id, for paging from an id.
func (p *Portal) CursorAfter(id string) (InstanceCursor, error) {
	var c InstanceCursor
	err := p.Store.View(func(st *State) error {
		in := st.instance(strings.TrimSpace(id))
		if in == nil {
			return errNoInstance(id)
		}
		c = InstanceCursor{in.VirtualAccount, in.Hostname, in.ID}
		return nil
	})
	return c, err
}

// Instances lists every product instance, of one virtual account if virtual
// is not empty, ordered by virtual account, host name and id.
func (p *Portal) Instances(virtual string) ([]Instance, error) {
	var all []Instance
	var cur InstanceCursor
	for {
		page, next, err := p.InstancePage(virtual, cur, MaxInstancePage)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if next == (InstanceCursor{}) {
			return all, nil
		}
		cur = next
	}
}

// UsageReport is a virtual account's licences against its products' usage.
type UsageReport struct {
	SmartAccount, VirtualAccount string
	Instances                    int
	Balances                     []Balance // catalog order
	ExportKeys, ExportKeysHeld   int

	// Reservations removed without a return code, and what they keep out of
	// the pool (included in Balances' Reserved).
	Forfeited         int
	ForfeitedLicenses []ReservedLicense
}

// Usage reports a virtual account's compliance as the products last reported it.
func (p *Portal) Usage(virtual string) (*UsageReport, error) {
	now := p.Clock.Now()
	var r *UsageReport
	err := p.Store.View(func(st *State) error {
		sa, va := st.findVA(virtual)
		if va == nil {
			return errNoVA(virtual)
		}
		t := st.totals(va.Name)
		r = &UsageReport{
			SmartAccount:   sa.Name,
			VirtualAccount: va.Name,
			Instances:      t.Instances,
			Balances:       st.balances(va, now),
			ExportKeys:     va.ExportKeys,
			ExportKeysHeld: t.ExportHeld,
			Forfeited:      len(va.Forfeited),
		}
		lost := map[holdKey]int{}
		for _, f := range va.Forfeited {
			for k, n := range f.Reservation.held(now) {
				lost[k] += n
			}
		}
		r.ForfeitedLicenses = heldLicenses(lost)
		return nil
	})
	return r, err
}
