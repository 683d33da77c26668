package cssm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	neturl "net/url"
	"slices"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter/tw"
	"github.com/ucmsh/ucmsh/cssmapi"
	"github.com/ucmsh/ucmsh/internal/sanitize"
	"golang.org/x/sys/unix"
)

// Satellite synchronization (SSM On-Prem, REFERENCE.md §6). A satellite is a
// cssm with its own store that serves nodes itself; it mirrors the accounts
// its parent lets it serve. Up go its product instances and their usage; down
// come the licences free for it and the instances the parent revoked. The
// parent counts a satellite's usage in its accounts' totals (flat cost), and
// removes a satellite (and that usage) 90 days after its last sync.
const (
	SyncOverdueAfter = 30 * 24 * time.Hour
	SatelliteRemoved = 90 * 24 * time.Hour

	// AlertSyncOverdue is the alert a satellite not synchronized for 30 days raises.
	AlertSyncOverdue = "Satellite synchronization overdue"
	// AlertSatelliteRemoved: the parent removed it after 90 days without a sync.
	AlertSatelliteRemoved = "Satellite removed"
)

// parentSatellite is the parent's record of one satellite (table satellites).
type parentSatellite struct {
	Name            string                    `json:"name"`
	PublicKey       string                    `json:"public_key"` // PEM
	VirtualAccounts []string                  `json:"virtual_accounts"`
	Created         time.Time                 `json:"created"`
	LastSync        time.Time                 `json:"last_sync,omitzero"`
	LastSeq         int64                     `json:"last_seq"`
	LastFileSHA256  string                    `json:"last_file_sha256,omitempty"`
	LastReply       []byte                    `json:"last_reply,omitempty"`
	Instances       []SatelliteInstance       `json:"instances,omitempty"`
	Usage           map[string]map[string]int `json:"usage,omitempty"` // va -> tag -> count
	Revoked         []string                  `json:"revoked,omitempty"`
	Removed         time.Time                 `json:"removed,omitzero"`
}

// satelliteLink is a satellite's record of its parent (table satellite_self).
type satelliteLink struct {
	Name      string    `json:"name"`
	ParentKey string    `json:"parent_key"` // PEM
	ParentURL string    `json:"parent_url,omitempty"`
	Created   time.Time `json:"created"`
	Exported  int64     `json:"exported"` // the newest export's sequence number
	Applied   int64     `json:"applied"`  // the newest reply applied
	LastSync  time.Time `json:"last_sync,omitzero"`
	Accounts  []string  `json:"accounts,omitempty"` // mirrored from the parent: only their instances go up
}

func (st *State) satellite(name string) *parentSatellite {
	var data string
	if !st.tx.row(`SELECT data FROM satellites WHERE name = ?`, []any{name}, &data) {
		return nil
	}
	var s parentSatellite
	st.decode([]byte(data), &s)
	return &s
}

func (st *State) putSatellite(s *parentSatellite, isNew bool) {
	data := string(encodeJSON(s))
	removed := 0
	if !s.Removed.IsZero() {
		removed = 1
	}
	if isNew {
		st.tx.exec(`INSERT INTO satellites (name, last_contact, removed, data) VALUES (?, ?, ?, ?)`, s.Name, s.lastContact().Unix(), removed, data)
		return
	}
	st.tx.exec(`UPDATE satellites SET last_contact = ?, removed = ?, data = ? WHERE name = ?`, s.lastContact().Unix(), removed, data, s.Name)
}

// inUse is a virtual account's use for compliance: its totals, less the
// usage of satellites past their 90 days that no satellite operation has
// removed yet (normally none: one indexed-size query of the few satellites).
func (st *State) inUse(va string, now time.Time) map[string]int {
	in := st.totals(va).InUse
	var data string
	var stale []parentSatellite
	st.tx.rows(`SELECT data FROM satellites WHERE removed = 0 AND last_contact <= ?`, []any{now.Add(-SatelliteRemoved).Unix()}, func() {
		var s parentSatellite
		st.decode([]byte(data), &s)
		stale = append(stale, s)
	}, &data)
	if len(stale) == 0 {
		return in
	}
	out := maps.Clone(in)
	for _, s := range stale {
		for tag, n := range s.Usage[va] {
			out[tag] = max(0, out[tag]-n)
		}
	}
	return out
}

func (st *State) satellites() []*parentSatellite {
	var out []*parentSatellite
	var data string
	st.tx.rows(`SELECT data FROM satellites ORDER BY name`, nil, func() {
		var s parentSatellite
		st.decode([]byte(data), &s)
		out = append(out, &s)
	}, &data)
	return out
}

func (st *State) link() *satelliteLink {
	var data string
	if !st.tx.row(`SELECT data FROM satellite_self WHERE k = 'parent'`, nil, &data) {
		return nil
	}
	var l satelliteLink
	st.decode([]byte(data), &l)
	return &l
}

func (st *State) putLink(l *satelliteLink) {
	st.tx.exec(`INSERT INTO satellite_self (k, data) VALUES ('parent', ?) ON CONFLICT (k) DO UPDATE SET data = excluded.data`, string(encodeJSON(l)))
}

// setSatelliteReport replaces a satellite's instances and what they use in
// the accounts' totals (so that `cssm usage` and compliance count them at flat
// cost).
func (st *State) setSatelliteReport(s *parentSatellite, instances []SatelliteInstance, usage map[string]map[string]int) {
	for va, tags := range s.Usage {
		t := st.totals(va)
		for tag, n := range tags {
			if t.InUse[tag] -= n; t.InUse[tag] <= 0 {
				delete(t.InUse, tag)
			}
		}
	}
	for _, in := range s.Instances {
		st.totals(in.VirtualAccount).Instances--
	}
	s.Usage, s.Instances = usage, instances
	for va, tags := range usage {
		t := st.totals(va)
		for tag, n := range tags {
			t.InUse[tag] += n
		}
	}
	for _, in := range instances {
		st.totals(in.VirtualAccount).Instances++
	}
}

// expireSatellites removes, with their instances and usage, the satellites
// not synchronized for 90 days. Every satellite operation runs it first.
func (st *State) expireSatellites(now time.Time) {
	for _, s := range st.satellites() {
		if s.Removed.IsZero() && !now.Before(s.lastContact().Add(SatelliteRemoved)) {
			st.setSatelliteReport(s, nil, nil)
			s.Removed, s.LastReply = now, nil
			st.putSatellite(s, false)
		}
	}
}

func (s *parentSatellite) lastContact() time.Time {
	if s.LastSync.IsZero() {
		return s.Created
	}
	return s.LastSync
}

// AddSatellite registers a satellite with this parent: its signing key (what
// `cssm key` prints on the satellite) and the virtual accounts it may serve.
func (p *Portal) AddSatellite(name string, keyPEM []byte, virtuals []string) (string, error) {
	if err := checkName("satellite name", name); err != nil {
		return "", err
	}
	if _, err := ParsePublicKeyPEM(keyPEM); err != nil {
		return "", err
	}
	if len(virtuals) == 0 {
		return "", errors.New(msgSatelliteNoVA)
	}
	now := p.Clock.Now()
	err := p.Store.Update(func(st *State) error {
		st.expireSatellites(now)
		old := st.satellite(name)
		if old != nil && old.Removed.IsZero() {
			return fmt.Errorf(msgSatelliteExists, name)
		}
		for _, va := range virtuals {
			if _, v := st.findVA(va); v == nil {
				return errNoVA(va)
			}
		}
		// A satellite removed after 90 days may be registered again, afresh.
		st.putSatellite(&parentSatellite{Name: name, PublicKey: string(keyPEM), VirtualAccounts: virtuals, Created: now}, old == nil)
		return nil
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf(msgSatelliteAdded, name, strings.Join(virtuals, ", ")), nil
}

// RevokeSatelliteInstance makes the satellite remove one of its instances at
// its next sync.
func (p *Portal) RevokeSatelliteInstance(name, id string) (string, error) {
	now := p.Clock.Now()
	err := p.Store.Update(func(st *State) error {
		st.expireSatellites(now)
		s := st.satellite(name)
		if s == nil || !s.Removed.IsZero() {
			return fmt.Errorf(msgSatelliteUnknown, name)
		}
		if !slices.ContainsFunc(s.Instances, func(in SatelliteInstance) bool { return in.ID == id }) {
			return fmt.Errorf(msgSatelliteNoInstance, name, id)
		}
		if !slices.Contains(s.Revoked, id) {
			s.Revoked = append(s.Revoked, id)
		}
		st.putSatellite(s, false)
		return nil
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf(msgSatelliteRevoked, id, name), nil
}

// SatelliteInfo is one satellite as the parent lists it.
type SatelliteInfo struct {
	Name            string
	VirtualAccounts []string
	LastSync        time.Time // zero: never
	Instances       int
	Status          string // "Synchronized", AlertSyncOverdue, AlertSatelliteRemoved
}

// Satellites lists the parent's satellites (expiring the stale ones first).
func (p *Portal) Satellites() ([]SatelliteInfo, error) {
	now := p.Clock.Now()
	var out []SatelliteInfo
	err := p.Store.Update(func(st *State) error {
		st.expireSatellites(now)
		for _, s := range st.satellites() {
			status := "Synchronized"
			switch {
			case !s.Removed.IsZero():
				status = AlertSatelliteRemoved
			case !now.Before(s.lastContact().Add(SyncOverdueAfter)):
				status = AlertSyncOverdue
			}
			out = append(out, SatelliteInfo{s.Name, s.VirtualAccounts, s.LastSync, len(s.Instances), status})
		}
		return nil
	})
	return out, err
}

// SatelliteAlert is one alert about synchronization, for the portal's Alerts.
type SatelliteAlert struct {
	Satellite string
	Message   string // AlertSyncOverdue or AlertSatelliteRemoved
	LastSync  time.Time
	Since     time.Time // when the alert was raised
}

// SatelliteAlerts lists the synchronization alerts: on a parent, per satellite
// overdue (30 days) or removed (90 days); on a satellite, its own overdue sync.
func (p *Portal) SatelliteAlerts() ([]SatelliteAlert, error) {
	now := p.Clock.Now()
	var out []SatelliteAlert
	err := p.Store.Update(func(st *State) error {
		st.expireSatellites(now)
		for _, s := range st.satellites() {
			last := s.lastContact()
			switch {
			case !s.Removed.IsZero():
				out = append(out, SatelliteAlert{s.Name, AlertSatelliteRemoved, s.LastSync, s.Removed})
			case !now.Before(last.Add(SyncOverdueAfter)):
				out = append(out, SatelliteAlert{s.Name, AlertSyncOverdue, s.LastSync, last.Add(SyncOverdueAfter)})
			}
		}
		if l := st.link(); l != nil {
			last := l.LastSync
			if last.IsZero() {
				last = l.Created
			}
			if !now.Before(last.Add(SyncOverdueAfter)) {
				out = append(out, SatelliteAlert{l.Name, AlertSyncOverdue, l.LastSync, last.Add(SyncOverdueAfter)})
			}
		}
		return nil
	})
	return out, err
}

// ImportSync is the parent's side of a sync (`cssm satellite sync import` and
// POST PathSatelliteSync): it checks that the file is the registered
// satellite's, signed, for this parent and newer than the last one, records
// its instances and usage, and answers with the signed reply. A refused file
// changes nothing. The newest file sent again gets the same reply (a
// connected satellite whose answer was lost retries).
func (p *Portal) ImportSync(data []byte) ([]byte, error) {
	key, err := p.Store.SigningKey()
	if err != nil {
		return nil, err
	}
	self := keyFingerprint(&key.PublicKey)
	env, m, err := decodeSyncFile(data)
	if err != nil {
		return nil, err
	}
	if m.Kind != syncUp {
		return nil, errors.New(msgSyncNotUp)
	}
	if m.Parent != self {
		return nil, errors.New(msgSyncOtherParent)
	}
	now := p.Clock.Now()
	sum := sha256.Sum256(data)
	fileHash := fmt.Sprintf("%x", sum)
	var reply []byte
	err = p.Store.Update(func(st *State) error {
		st.expireSatellites(now)
		s := st.satellite(m.Satellite)
		if s == nil {
			return fmt.Errorf(msgSatelliteUnknown, m.Satellite)
		}
		pub, err := ParsePublicKeyPEM([]byte(s.PublicKey))
		if err != nil {
			return err
		}
		if !verifySync(pub, env) {
			return fmt.Errorf(msgSyncBadSignature, m.Satellite)
		}
		if !s.Removed.IsZero() {
			return fmt.Errorf(msgSatelliteWasRemoved, s.Name, s.Removed.UTC().Format(time.DateOnly))
		}
		if m.Seq == s.LastSeq && fileHash == s.LastFileSHA256 && s.LastReply != nil {
			reply = s.LastReply
			return nil
		}
		if m.Seq <= s.LastSeq {
			return fmt.Errorf(msgSyncReplayed, m.Seq, s.LastSeq)
		}
		usage := map[string]map[string]int{}
		seen := map[string]bool{}
		for _, in := range m.Instances {
			if !slices.Contains(s.VirtualAccounts, in.VirtualAccount) {
				return fmt.Errorf(msgSyncForeignVA, in.ID, in.VirtualAccount, s.Name)
			}
			if in.ID == "" || seen[in.ID] {
				return errors.New(msgSyncNotAFile)
			}
			seen[in.ID] = true
			for tag, n := range in.Usage {
				if _, ok := cssmapi.LookupTag(tag); !ok || n < 0 || n > 1_000_000 {
					return errors.New(msgSyncNotAFile)
				}
				if usage[in.VirtualAccount] == nil {
					usage[in.VirtualAccount] = map[string]int{}
				}
				usage[in.VirtualAccount][tag] += n
			}
		}
		st.setSatelliteReport(s, m.Instances, usage)
		// Revocations the satellite has carried out are done.
		s.Revoked = slices.DeleteFunc(s.Revoked, func(id string) bool { return !seen[id] })
		s.LastSeq, s.LastSync, s.LastFileSHA256 = m.Seq, now, fileHash

		down := &syncMessage{Kind: syncDown, Satellite: s.Name, Parent: self, Seq: m.Seq, Created: now, Revoked: s.Revoked}
		for _, name := range s.VirtualAccounts {
			sa, va := st.findVA(name)
			if va == nil {
				continue // removed since: the satellite keeps its last pool
			}
			down.Accounts = append(down.Accounts, MirroredAccount{
				SmartAccount: sa.Name, VirtualAccount: va.Name,
				Licenses: st.freeFor(va, usage[va.Name], now), ExportKeys: va.ExportKeys,
			})
		}
		if reply, err = signSync(key, down); err != nil {
			return err
		}
		s.LastReply = reply
		st.putSatellite(s, false)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return reply, nil
}

// freeFor is the pool a satellite may serve from: per licence type, what the
// account has free when the satellite's own use is left out (after tier
// substitution and dual parenting for everyone else, reservations kept out).
// Perpetual licences come first; the rest is TERM, ending with the earliest
// of the type's valid terms, so the satellite never counts a licence longer
// than it lasts.
func (st *State) freeFor(va *VirtualAccount, own map[string]int, now time.Time) []License {
	others := map[string]int{}
	for tag, n := range st.inUse(va.Name, now) {
		others[tag] = n - own[tag]
	}
	out := []License{}
	for _, b := range Balances(va.Licenses, others, byTag(st.reservedIn(va, now, nil)), now) {
		free := max(0, b.Balance())
		if free == 0 {
			continue
		}
		perpetual, termEnd := 0, ""
		for _, l := range va.Licenses {
			switch {
			case l.Tag != b.Tag || !l.validAt(now):
			case l.Type == Perpetual:
				perpetual += l.Count
			case termEnd == "" || l.TermEnd < termEnd:
				termEnd = l.TermEnd
			}
		}
		if n := min(free, perpetual); n > 0 {
			out = append(out, License{Tag: b.Tag, Count: n, Type: Perpetual, Added: now})
			free -= n
		}
		if free > 0 && termEnd != "" {
			out = append(out, License{Tag: b.Tag, Count: free, Type: Term, TermEnd: termEnd, Added: now})
		}
	}
	return out
}

// SetupSatellite makes this cssm a satellite named name of the parent whose
// signing key (`cssm key` on the parent) is parentKey.
func (p *Portal) SetupSatellite(name string, parentKey []byte) (string, error) {
	if err := checkName("satellite name", name); err != nil {
		return "", err
	}
	pub, err := ParsePublicKeyPEM(parentKey)
	if err != nil {
		return "", err
	}
	now := p.Clock.Now()
	err = p.Store.Update(func(st *State) error {
		if l := st.link(); l != nil {
			return fmt.Errorf(msgSatelliteAlreadySetUp, l.Name)
		}
		st.putLink(&satelliteLink{Name: name, ParentKey: string(parentKey), Created: now})
		return nil
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf(msgSatelliteSetUp, name, keyFingerprint(pub)), nil
}

// SetParentURL records where a connected satellite reaches its parent.
func (p *Portal) SetParentURL(url string) error {
	if u, err := neturl.Parse(url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf(msgSatelliteBadURL, url)
	}
	return p.Store.Update(func(st *State) error {
		l := st.link()
		if l == nil {
			return errors.New(msgSatelliteNotSetUp)
		}
		l.ParentURL = url
		st.putLink(l)
		return nil
	})
}

// ExportSync writes the satellite's next sync file: every instance it serves
// with its last usage report, under a new sequence number.
func (p *Portal) ExportSync() ([]byte, error) {
	key, err := p.Store.SigningKey()
	if err != nil {
		return nil, err
	}
	now := p.Clock.Now()
	var out []byte
	err = p.Store.Update(func(st *State) error {
		l := st.link()
		if l == nil {
			return errors.New(msgSatelliteNotSetUp)
		}
		parent, err := ParsePublicKeyPEM([]byte(l.ParentKey))
		if err != nil {
			return err
		}
		l.Exported++
		m := &syncMessage{Kind: syncUp, Satellite: l.Name, Parent: keyFingerprint(parent), Seq: l.Exported, Created: now}
		var after InstanceCursor
		for {
			page := st.listInstances("", after, 500)
			for _, in := range page {
				if !slices.Contains(l.Accounts, in.VirtualAccount) {
					continue // local accounts are the satellite's own
				}
				usage := in.Usage
				if in.Reservation != nil { // reserved licences are in use for the parent
					usage = byTag(in.Reservation.held(now))
				}
				m.Instances = append(m.Instances, SatelliteInstance{ID: in.ID, UDI: in.UDI, Hostname: in.Hostname,
					VirtualAccount: in.VirtualAccount, LastSeen: in.LastSeen, Usage: usage})
			}
			if len(page) < 500 {
				break
			}
			last := page[len(page)-1]
			after = InstanceCursor{VirtualAccount: last.VirtualAccount, Hostname: last.Hostname, ID: last.ID}
		}
		if len(m.Instances) > maxSatelliteInstances {
			return fmt.Errorf(msgSatelliteTooMany, maxSatelliteInstances)
		}
		if out, err = signSync(key, m); err != nil {
			return err
		}
		st.putLink(l)
		return nil
	})
	return out, err
}

// ApplySync applies the parent's reply on the satellite: the mirrored
// accounts' pools, and the revoked instances removed. It must be the
// parent's answer to this satellite's newest export, applied once.
func (p *Portal) ApplySync(data []byte) (string, error) {
	env, m, err := decodeSyncFile(data)
	if err != nil {
		return "", err
	}
	if m.Kind != syncDown {
		return "", errors.New(msgSyncNotDown)
	}
	now := p.Clock.Now()
	var msg string
	err = p.Store.Update(func(st *State) error {
		l := st.link()
		if l == nil {
			return errors.New(msgSatelliteNotSetUp)
		}
		if m.Satellite != l.Name {
			return fmt.Errorf(msgSyncOtherSatellite, m.Satellite, l.Name)
		}
		parent, err := ParsePublicKeyPEM([]byte(l.ParentKey))
		if err != nil {
			return err
		}
		if m.Parent != keyFingerprint(parent) || !verifySync(parent, env) {
			return errors.New(msgSyncBadParentSignature)
		}
		switch {
		case m.Seq <= l.Applied:
			return fmt.Errorf(msgSyncReplyReplayed, m.Seq)
		case m.Seq != l.Exported:
			return fmt.Errorf(msgSyncReplyStale, m.Seq, l.Exported)
		}
		for _, a := range m.Accounts {
			if checkName("smart account name", a.SmartAccount) != nil || checkName("virtual account name", a.VirtualAccount) != nil {
				return errors.New(msgSyncNotAFile)
			}
			for _, lic := range a.Licenses {
				if _, ok := cssmapi.LookupTag(lic.Tag); !ok || lic.Count < 0 || lic.Count > 1_000_000 {
					return errors.New(msgSyncNotAFile)
				}
			}
			sa, va := st.findVA(a.VirtualAccount)
			if va == nil {
				if sa = st.findSA(a.SmartAccount); sa == nil {
					sa = &SmartAccount{Name: a.SmartAccount, Created: now}
					st.addSmartAccount(sa)
				}
				va = &VirtualAccount{Name: a.VirtualAccount, Created: now}
				sa.VirtualAccounts = append(sa.VirtualAccounts, va)
			}
			va.Licenses = append([]License{}, a.Licenses...)
			va.ExportKeys = max(a.ExportKeys, st.totals(va.Name).ExportHeld)
		}
		removed := 0
		for _, id := range m.Revoked {
			if in := st.instance(id); in != nil && in.Reservation == nil {
				st.removeInstance(in)
				removed++
			}
		}
		l.Applied, l.LastSync = m.Seq, now
		l.Accounts = l.Accounts[:0]
		for _, a := range m.Accounts {
			l.Accounts = append(l.Accounts, a.VirtualAccount)
		}
		st.putLink(l)
		msg = fmt.Sprintf(msgSyncApplied, plural(len(m.Accounts), "virtual account"), plural(removed, "revoked instance"))
		return nil
	})
	return msg, err
}

// SyncNow is a connected satellite's sync: export, send to the parent, apply
// its reply.
func (p *Portal) SyncNow(ctx context.Context, client *http.Client) (string, error) {
	// One connected sync at a time (serve's schedule and `cssm satellite
	// sync`), so that no export overtakes another's reply.
	unlock, err := p.Store.lockFile(syncLockFile, unix.LOCK_EX)
	if err != nil {
		return "", err
	}
	defer unlock()
	var url string
	if err := p.Store.View(func(st *State) error {
		l := st.link()
		if l == nil {
			return errors.New(msgSatelliteNotSetUp)
		}
		url = l.ParentURL
		return nil
	}); err != nil {
		return "", err
	}
	if url == "" {
		return "", errors.New(msgSatelliteNoURL)
	}
	up, err := p.ExportSync()
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(url, "/")+PathSatelliteSync, bytes.NewReader(up))
	if err != nil {
		return "", fmt.Errorf(msgSyncUnreachable, url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf(msgSyncUnreachable, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxSyncFileBytes+1))
	if err != nil {
		return "", fmt.Errorf(msgSyncUnreachable, url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf(msgSyncParentRefused, url, sanitize.Text(strings.TrimSpace(string(body))))
	}
	return p.ApplySync(body)
}

// syncHandler is the parent's POST PathSatelliteSync. Authentication is the
// file's signature by the registered satellite's key (AddSatellite).
func syncHandler(p *Portal, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != PathSatelliteSync {
			next.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "use POST", http.StatusMethodNotAllowed)
			return
		}
		// As on the product API: JSON only, so a web page cannot post here
		// without a CORS preflight this server never answers.
		if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
			http.Error(w, "send the sync file as application/json", http.StatusUnsupportedMediaType)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxSyncFileBytes))
		if err != nil {
			http.Error(w, fmt.Sprintf(msgSyncTooLarge, MaxSyncFileBytes>>20), http.StatusRequestEntityTooLarge)
			return
		}
		reply, err := p.ImportSync(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(reply)
	})
}

// WriteSatellites prints the parent's satellites as `cssm satellite list` shows them.
func WriteSatellites(w io.Writer, list []SatelliteInfo) error {
	if len(list) == 0 {
		_, err := io.WriteString(w, msgNoSatellites)
		return err
	}
	t := newTable(w, []tw.Align{tw.AlignLeft, tw.AlignLeft, tw.AlignLeft, tw.AlignRight, tw.AlignLeft})
	t.Header("Satellite", "Virtual Accounts", "Last Sync", "Instances", "Status")
	for _, s := range list {
		last := "never"
		if !s.LastSync.IsZero() {
			last = s.LastSync.UTC().Format(listTime)
		}
		if err := t.Append(s.Name, strings.Join(s.VirtualAccounts, ", "), last, s.Instances, s.Status); err != nil {
			return err
		}
	}
	return t.Render()
}

// SatelliteStatus is this cssm's link to its parent, as `cssm satellite
// status` shows it on a satellite.
type SatelliteStatus struct {
	Name, Parent, ParentURL string // Parent: the parent key's fingerprint
	LastSync                time.Time
	Accounts                []string
	Overdue                 bool // not synchronized for 30 days
}

// Status reports the satellite's link; an error on a cssm that is not one.
func (p *Portal) Status() (*SatelliteStatus, error) {
	now := p.Clock.Now()
	var out *SatelliteStatus
	err := p.Store.View(func(st *State) error {
		l := st.link()
		if l == nil {
			return errors.New(msgSatelliteNotSetUp)
		}
		pub, err := ParsePublicKeyPEM([]byte(l.ParentKey))
		if err != nil {
			return err
		}
		last := l.LastSync
		if last.IsZero() {
			last = l.Created
		}
		out = &SatelliteStatus{Name: l.Name, Parent: keyFingerprint(pub), ParentURL: l.ParentURL, LastSync: l.LastSync,
			Accounts: l.Accounts, Overdue: !now.Before(last.Add(SyncOverdueAfter))}
		return nil
	})
	return out, err
}

// WriteSatelliteStatus prints a satellite's status.
func WriteSatelliteStatus(w io.Writer, s *SatelliteStatus) error {
	last, url, status := "never", s.ParentURL, "Synchronized"
	if !s.LastSync.IsZero() {
		last = s.LastSync.UTC().Format(listTime)
	}
	if url == "" {
		url = "- (disconnected: sync by file)"
	}
	if s.Overdue {
		status = AlertSyncOverdue
	}
	_, err := fmt.Fprintf(w, "Satellite: %s\nParent Key: %s\nParent URL: %s\nVirtual Accounts: %s\nLast Sync: %s\nStatus: %s\n",
		s.Name, s.Parent, url, strings.Join(s.Accounts, ", "), last, status)
	return err
}
