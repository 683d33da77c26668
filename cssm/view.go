package cssm

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"
)

func bg() context.Context { return context.Background() }

// catch runs fn and returns the database error it panicked with, if any.
func catch(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			p, ok := r.(dbPanic)
			if !ok {
				panic(r)
			}
			err = p.err
		}
	}()
	fn()
	return nil
}

func newView(tx *dbTx) *State {
	return &State{
		tx:          tx,
		accountSnap: map[string][]byte{},
		tokens:      map[string]*Token{},
		tokenSnap:   map[string][]byte{},
		insts:       map[string]*Instance{},
		instSnap:    map[string]*Instance{},
		byUDI:       map[string]string{},
		totalsCache: map[string]*vaTotals{},
		totalsSnap:  map[string][]byte{},
		stamps:      map[string]time.Time{},
		stampDirty:  map[string]bool{},
		idem:        map[string]*IdempotencyRecord{},
		idemDirty:   map[string]bool{},
	}
}

func encodeJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // the model's types always encode
	}
	return b
}

func (st *State) decode(data []byte, v any) {
	st.tx.must(json.Unmarshal(data, v))
}

// accountRow is one virtual account's row: the account and its smart account's
// creation time.
type accountRow struct {
	SmartCreated time.Time       `json:"smart_created"`
	Account      *VirtualAccount `json:"account"`
}

// smartAccounts loads every account once per transaction: there are few, and
// every operation needs its own.
func (st *State) smartAccounts() []*SmartAccount {
	if st.accounts != nil {
		return st.accounts
	}
	st.accounts = []*SmartAccount{}
	type raw struct{ va, sa, data string }
	var all []raw
	var r raw
	st.tx.rows(`SELECT va, sa, data FROM accounts ORDER BY seq`, nil, func() { all = append(all, r) }, &r.va, &r.sa, &r.data)
	for _, r := range all {
		var row accountRow
		st.decode([]byte(r.data), &row)
		if row.Account.Licenses == nil {
			row.Account.Licenses = []License{}
		}
		sa := st.findSAIn(r.sa)
		if sa == nil {
			sa = &SmartAccount{Name: r.sa, Created: row.SmartCreated}
			st.accounts = append(st.accounts, sa)
		}
		sa.VirtualAccounts = append(sa.VirtualAccounts, row.Account)
		st.accountSnap[r.va] = encodeJSON(accountRow{sa.Created, row.Account})
	}
	return st.accounts
}

func (st *State) findSAIn(name string) *SmartAccount {
	for _, sa := range st.accounts {
		if sa.Name == name {
			return sa
		}
	}
	return nil
}

func (st *State) addSmartAccount(sa *SmartAccount) {
	st.smartAccounts()
	st.accounts = append(st.accounts, sa)
}

// token is the token with this text, or nil.
func (st *State) token(text string) *Token {
	return cachedRow(st, st.tokens, `SELECT data FROM tokens WHERE token = ?`, text, func(_ *Token, data []byte) {
		st.tokenSnap[text] = data
	})
}

// cachedRow is the row key of a table in this transaction: from cache, else
// decoded from query's data column (loaded then keeps its snapshot), nil
// when there is none; cache remembers either.
func cachedRow[T any](st *State, cache map[string]*T, query, key string, loaded func(v *T, data []byte)) *T {
	if v, ok := cache[key]; ok {
		return v
	}
	var data string
	var v *T
	if st.tx.row(query, []any{key}, &data) {
		v = new(T)
		st.decode([]byte(data), v)
		loaded(v, []byte(data))
	}
	cache[key] = v
	return v
}

func (st *State) putToken(text string, t *Token) {
	st.token(text)
	st.tokens[text] = t
}

// instance is the instance with this id, or nil.
func (st *State) instance(id string) *Instance {
	return cachedRow(st, st.insts, `SELECT data FROM instances WHERE id = ?`, id, func(in *Instance, _ []byte) {
		snap := snapshot(in)
		st.instSnap[id] = &snap
		if _, ok := st.byUDI[in.UDI]; !ok {
			st.byUDI[in.UDI] = id
		}
	})
}

// instanceByUDI is the instance of the product with this UDI, or nil.
func (st *State) instanceByUDI(udi string) *Instance {
	id, ok := st.byUDI[udi]
	if !ok {
		if !st.tx.row(`SELECT id FROM instances WHERE udi = ?`, []any{udi}, &id) {
			id = ""
		}
		st.byUDI[udi] = id
	}
	if id == "" {
		return nil
	}
	return st.instance(id)
}

// reservingIn is every reservation instance of the virtual account, by id.
func (st *State) reservingIn(va string) []*Instance {
	var ids []string
	var id string
	st.tx.rows(`SELECT id FROM instances WHERE va = ? AND reserved = 1`, []any{va}, func() { ids = append(ids, id) }, &id)
	for _, id := range ids {
		st.instance(id)
	}
	// The cache holds those and whatever this transaction changed.
	var out []*Instance
	for _, in := range st.insts {
		if in != nil && in.Reservation != nil && in.VirtualAccount == va {
			out = append(out, in)
		}
	}
	slices.SortFunc(out, func(a, b *Instance) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// totals is the virtual account's aggregates.
func (st *State) totals(va string) *vaTotals {
	if t := st.totalsCache[va]; t != nil {
		return t
	}
	t := &vaTotals{}
	var data string
	if st.tx.row(`SELECT data FROM va_totals WHERE va = ?`, []any{va}, &data) {
		st.decode([]byte(data), t)
		st.totalsSnap[va] = []byte(data)
	}
	if t.InUse == nil {
		t.InUse = map[string]int{}
	}
	st.totalsCache[va] = t
	return t
}

func (st *State) stamp(udi string) (time.Time, bool) {
	if t, ok := st.stamps[udi]; ok {
		return t, !t.IsZero()
	}
	var s string
	var t time.Time
	if st.tx.row(`SELECT ts FROM reservation_stamps WHERE udi = ?`, []any{udi}, &s) {
		st.tx.must(t.UnmarshalText([]byte(s)))
	}
	st.stamps[udi] = t
	return t, !t.IsZero()
}

func (st *State) setStamp(udi string, t time.Time) {
	st.stamps[udi] = t
	st.stampDirty[udi] = true
}

func (st *State) idempotencyRecord(key string) *IdempotencyRecord {
	if r, ok := st.idem[key]; ok {
		return r
	}
	var r IdempotencyRecord
	var created int64
	found := st.tx.row(`SELECT path, req, status, body, sig, created FROM idempotency WHERE k = ?`, []any{key},
		&r.Path, &r.RequestSHA256, &r.Status, &r.Body, &r.Signature, &created)
	if !found {
		st.idem[key] = nil
		return nil
	}
	r.Created = time.Unix(0, created).UTC()
	st.idem[key] = &r
	return &r
}

// countInstances is how many instances the store holds (committed).
func (st *State) countInstances() int {
	var n int
	st.tx.row(`SELECT COUNT(*) FROM instances`, nil, &n)
	return n
}

// listInstances is a page of instances (committed), ordered by virtual
// account, host name and id, after the cursor (zero: from the start).
func (st *State) listInstances(va string, after InstanceCursor, limit int) []Instance {
	q := `SELECT data FROM instances WHERE (va, hostname, id) > (?, ?, ?)`
	args := []any{after.VirtualAccount, after.Hostname, after.ID}
	if va != "" {
		q = `SELECT data FROM instances WHERE va = ? AND (hostname, id) > (?, ?)`
		args = []any{va, after.Hostname, after.ID}
		if after.VirtualAccount != "" && after.VirtualAccount != va {
			return nil
		}
	}
	q += ` ORDER BY va, hostname, id LIMIT ?`
	args = append(args, limit)
	var raws []string
	var data string
	st.tx.rows(q, args, func() { raws = append(raws, data) }, &data)
	out := make([]Instance, 0, len(raws))
	for _, r := range raws {
		var in Instance
		st.decode([]byte(r), &in)
		out = append(out, in)
	}
	return out
}

// flush writes back everything the transaction changed.
func (st *State) flush() {
	tx := st.tx
	defer st.flushEvents()
	if st.accounts != nil {
		var seq int64
		tx.row(`SELECT COALESCE(MAX(seq), 0) FROM accounts`, nil, &seq)
		for _, sa := range st.accounts {
			for _, va := range sa.VirtualAccounts {
				data := encodeJSON(accountRow{sa.Created, va})
				old, ok := st.accountSnap[va.Name]
				switch {
				case !ok:
					seq++
					tx.exec(`INSERT INTO accounts (va, seq, sa, data) VALUES (?, ?, ?, ?)`, va.Name, seq, sa.Name, string(data))
				case !bytes.Equal(old, data):
					tx.exec(`UPDATE accounts SET data = ? WHERE va = ?`, string(data), va.Name)
				}
			}
		}
	}
	for _, text := range slices.Sorted(maps.Keys(st.tokens)) {
		t := st.tokens[text]
		if t == nil {
			continue
		}
		data := encodeJSON(t)
		old, ok := st.tokenSnap[text]
		switch {
		case !ok:
			tx.exec(`INSERT INTO tokens (token, va, data) VALUES (?, ?, ?)`, text, t.VirtualAccount, string(data))
		case !bytes.Equal(old, data):
			tx.exec(`UPDATE tokens SET data = ? WHERE token = ?`, string(data), text)
		}
	}
	ids := slices.Sorted(maps.Keys(st.insts))
	for _, id := range ids { // deletes first: a new instance may take a removed one's UDI
		if st.insts[id] == nil && st.instSnap[id] != nil {
			tx.exec(`DELETE FROM instances WHERE id = ?`, id)
		}
	}
	for _, id := range ids {
		in, old := st.insts[id], st.instSnap[id]
		if in == nil || (old != nil && sameInstance(old, in)) {
			continue
		}
		reserved := 0
		if in.Reservation != nil {
			reserved = 1
		}
		data := string(encodeJSON(in))
		if old == nil {
			tx.exec(`INSERT INTO instances (id, udi, va, hostname, reserved, data) VALUES (?, ?, ?, ?, ?, ?)`, id, in.UDI, in.VirtualAccount, in.Hostname, reserved, data)
		} else {
			// va too: a transfer moves an instance (Portal.TransferInstance).
			tx.exec(`UPDATE instances SET va = ?, hostname = ?, reserved = ?, data = ? WHERE id = ?`, in.VirtualAccount, in.Hostname, reserved, data, id)
		}
	}
	for _, va := range slices.Sorted(maps.Keys(st.totalsCache)) {
		data := encodeJSON(st.totalsCache[va])
		if old, ok := st.totalsSnap[va]; !ok || !bytes.Equal(old, data) {
			tx.exec(`INSERT INTO va_totals (va, data) VALUES (?, ?) ON CONFLICT (va) DO UPDATE SET data = excluded.data`, va, string(data))
		}
	}
	for _, udi := range slices.Sorted(maps.Keys(st.stampDirty)) {
		ts, _ := st.stamps[udi].MarshalText()
		tx.exec(`INSERT INTO reservation_stamps (udi, ts) VALUES (?, ?) ON CONFLICT (udi) DO UPDATE SET ts = excluded.ts`, udi, string(ts))
	}
	if !st.pruneTo.IsZero() {
		tx.exec(`DELETE FROM idempotency WHERE created < ?`, st.pruneTo.UnixNano())
	}
	for _, k := range slices.Sorted(maps.Keys(st.idemDirty)) {
		r := st.idem[k]
		tx.exec(`INSERT INTO idempotency (k, path, req, status, body, sig, created) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			k, r.Path, r.RequestSHA256, r.Status, r.Body, r.Signature, r.Created.UnixNano())
	}
}
func snapshot(in *Instance) Instance {
	s := *in
	s.Usage = maps.Clone(in.Usage)
	s.ExportKeys = slices.Clone(in.ExportKeys)
	s.Reservation = in.Reservation.clone()
	return s
}

// sameInstance compares every field of Instance (TestSameInstanceSeesEveryField
// fails when a new field is not compared here).
func sameInstance(a, b *Instance) bool {
	return a.ID == b.ID &&
		a.UDI == b.UDI &&
		a.Hostname == b.Hostname &&
		a.Version == b.Version &&
		a.VirtualAccount == b.VirtualAccount &&
		a.ExportAllowed == b.ExportAllowed &&
		a.CredentialSHA256 == b.CredentialSHA256 &&
		a.Registered == b.Registered &&
		a.RenewedID == b.RenewedID &&
		a.LastSeen == b.LastSeen &&
		a.UsageReported == b.UsageReported &&
		maps.Equal(a.Usage, b.Usage) &&
		slices.Equal(a.ExportKeys, b.ExportKeys) &&
		sameReservation(a.Reservation, b.Reservation)
}

// Token is the registration token with this text, or nil: for tests and tools
// outside the package.
func (st *State) Token(text string) *Token { return st.token(text) }

// AllInstances is every instance (as committed), by id: for tests and tools
// outside the package, on small stores (Portal.InstancePage pages big ones).
func (st *State) AllInstances() map[string]*Instance {
	out := map[string]*Instance{}
	for _, in := range st.listInstances("", InstanceCursor{}, 1<<30) {
		out[in.ID] = &in
	}
	return out
}
