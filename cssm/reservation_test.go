package cssm

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/internal/clock"

	"github.com/ucmsh/ucmsh/cssmapi"
	"github.com/ucmsh/ucmsh/reservation"
)

// node plays the product's side of a reservation with package reservation
// only, exactly as ucmsh does: it trusts the keys cssm published into the
// node folder beside the store, installs codes, and derives the codes the
// admin types back into cssm.
type node struct {
	t         testing.TB
	udi       reservation.UDI
	trust     string
	now       time.Time
	installed *reservation.AuthCode
}

func (l *lab) node(uuid string) *node {
	l.t.Helper()
	udi, err := reservation.NewUDI("UCM", uuid)
	if err != nil {
		l.t.Fatal(err)
	}
	trust := filepath.Join(filepath.Dir(l.store.Dir()), "node", "trust")
	return &node{t: l.t, udi: udi, trust: trust, now: t0}
}

// requestCode is what `license smart reservation request` prints.
func (n *node) requestCode() string { return reservation.RequestCode(n.udi) }

// check is what `license smart reservation install` checks before installing.
func (n *node) check(code string) (*reservation.AuthCode, error) {
	ac, err := reservation.ParseAuthCode(code)
	if err != nil {
		return nil, err
	}
	keys, err := reservation.LoadTrustDir(n.trust)
	if err != nil {
		return nil, err
	}
	if err := reservation.Verify(ac, keys); err != nil {
		return nil, err
	}
	var last time.Time
	if n.installed != nil {
		last = n.installed.Timestamp
	}
	return ac, reservation.CheckFor(ac, n.udi, last, n.now)
}

// install installs code and returns the confirmation code it prints.
func (n *node) install(code string) string {
	n.t.Helper()
	ac, err := n.check(code)
	if err != nil {
		n.t.Fatalf("the node refuses the code: %v", err)
	}
	n.installed = ac
	return reservation.ConfirmationCode(ac)
}

// returnCode is what `license smart reservation return` prints.
func (n *node) returnCode() string { return reservation.ReturnCode(n.installed) }

// returnAuthorization is what `license smart reservation return-authorization
// "<code>"` prints, for a code the node never installed.
func (n *node) returnAuthorization(code string) string {
	n.t.Helper()
	ac, err := reservation.ParseAuthCode(code)
	if err != nil {
		n.t.Fatal(err)
	}
	return reservation.ReturnCode(ac)
}

func lic(specs ...string) []LicenseRequest {
	var out []LicenseRequest
	for _, s := range specs {
		r, err := ParseLicenseRequest(s)
		if err != nil {
			panic(err)
		}
		out = append(out, r)
	}
	return out
}

func (l *lab) reserve(product string, specs ...string) *Issued {
	l.t.Helper()
	res, err := l.portal.Reserve(ReserveOptions{Virtual: "TAC", Product: product, Licenses: lic(specs...)})
	if err != nil {
		l.t.Fatal(err)
	}
	return res
}

func (l *lab) update(product string, specs ...string) *Issued {
	l.t.Helper()
	res, err := l.portal.UpdateReservation(ReserveOptions{Virtual: "TAC", Product: product, Licenses: lic(specs...)})
	if err != nil {
		l.t.Fatal(err)
	}
	return res
}

// pool is each tier's "Reserved" and "Balance" as `cssm usage` shows them,
// for the tiers named in want; it fails the test when they differ.
func (l *lab) pool(want map[string][2]int) {
	l.t.Helper()
	r, err := l.portal.Usage("TAC")
	if err != nil {
		l.t.Fatal(err)
	}
	for _, b := range r.Balances {
		w, ok := want[b.Tier]
		if ok && (b.Reserved != w[0] || b.Balance() != w[1]) {
			l.t.Errorf("%s: reserved %d, balance %d; want reserved %d, balance %d", b.Tier, b.Reserved, b.Balance(), w[0], w[1])
		}
	}
}

func (l *lab) reservation(product string) ReservationInfo {
	l.t.Helper()
	list, err := l.portal.Reservations("TAC")
	if err != nil {
		l.t.Fatal(err)
	}
	udi, _ := parseProduct(product)
	for _, r := range list {
		if r.UDI == udi.String() && r.State != ReservationForfeited {
			return r
		}
	}
	l.t.Fatalf("no reservation for %s in %+v", product, list)
	return ReservationInfo{}
}

const (
	uuidA = "e53fc968-0253-4d61-a355-ba908a6cc920" // the CUCM capture's node
	uuidB = "6fe83add-c802-40bc-92dc-071ac7a37624"
)

func TestReservationLifecycle(t *testing.T) {
	l := newLab(t)
	l.addLicense("Enhanced", 10)
	l.addLicense("Basic", 5)
	n := l.node(uuidA)

	// Reserve: the licences leave the pool at once, while the code is in transit.
	res := l.reserve(n.requestCode(), "Enhanced=5", "Basic=3")
	if strings.ContainsAny(res.Code, "\r\n") || !strings.HasPrefix(res.Code, "<specificPLR><authorizationCode><flag>A</flag><version>C</version><piid>"+res.InstanceID+"</piid>") {
		t.Fatalf("code: %q", res.Code)
	}
	l.pool(map[string][2]int{"Enhanced": {5, 5}, "Basic": {3, 2}})
	if r := l.reservation(n.requestCode()); r.State != ReservationInTransit || r.Confirmation != "" {
		t.Fatalf("after create: %+v", r)
	}

	// The node installs it; the admin enters the confirmation code.
	confirmation := n.install(res.Code)
	if _, err := l.portal.ConfirmReservation("TAC", n.requestCode(), confirmation); err != nil {
		t.Fatal(err)
	}
	if r := l.reservation(n.requestCode()); r.State != ReservationInstalled || r.Confirmation != confirmation {
		t.Fatalf("after confirm: %+v", r)
	}

	// Update up and down: a raise is taken at once, a cut comes back only
	// once the node confirms the new code (until then it may still hold 3 Basic).
	upd := l.update(n.requestCode(), "Enhanced=8", "Basic=1")
	l.pool(map[string][2]int{"Enhanced": {8, 2}, "Basic": {3, 2}})
	if r := l.reservation(n.requestCode()); r.State != ReservationUpdateInTransit || r.Confirmation != confirmation {
		t.Fatalf("after update: %+v", r)
	}
	confirmation = n.install(upd.Code)
	if _, err := l.portal.ConfirmReservation("TAC", n.requestCode(), strings.ToUpper(confirmation)); err != nil {
		t.Fatal(err)
	}
	l.pool(map[string][2]int{"Enhanced": {8, 2}, "Basic": {1, 4}})

	// Return: the node's return code gives everything back and ends the instance.
	out, err := l.portal.ReturnReservation("TAC", n.requestCode(), n.returnCode())
	if err != nil {
		t.Fatal(err)
	}
	if want := "Return code accepted: the reservation of " + n.requestCode() + " (product instance " + res.InstanceID + ") is returned and Enhanced=8, Basic=1 went back to virtual account \"TAC\".\n"; out != want {
		t.Fatalf("return: %q\nwant    %q", out, want)
	}
	l.pool(map[string][2]int{"Enhanced": {0, 10}, "Basic": {0, 5}})
	if list, _ := l.portal.Instances("TAC"); len(list) != 0 {
		t.Fatalf("instances after return: %+v", list)
	}
}

func TestInstanceRemoveWithTheReturnCode(t *testing.T) {
	for _, tt := range []struct {
		name       string
		returnCode func(n *node, issued []*Issued) string
	}{
		{"code installed and confirmed", func(n *node, _ []*Issued) string { return n.returnCode() }},
		// return-authorization: the node gives back a code it never installed.
		{"newest code never installed", func(n *node, issued []*Issued) string { return n.returnAuthorization(issued[1].Code) }},
		{"installed but not confirmed", func(n *node, issued []*Issued) string {
			n.install(issued[1].Code)
			return n.returnCode()
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := newLab(t)
			l.addLicense("Enhanced", 10)
			n := l.node(uuidA)
			first := l.reserve(n.requestCode(), "Enhanced=4")
			l.must(l.portal.ConfirmReservation("", n.requestCode(), n.install(first.Code)))
			second := l.update(n.requestCode(), "Enhanced=6")
			l.pool(map[string][2]int{"Enhanced": {6, 4}})

			if _, err := l.portal.RemoveInstance(first.InstanceID, RemoveOptions{ReturnCode: tt.returnCode(n, []*Issued{first, second})}); err != nil {
				t.Fatal(err)
			}
			l.pool(map[string][2]int{"Enhanced": {0, 10}})
		})
	}
}

// Every refusal says why in one sentence and leaves the store as it was.
func TestReservationRefusals(t *testing.T) {
	other := "P:UCM,S:37624,U:" + uuidB
	// before is the store before the refused action; a case whose set-up
	// changes the store calls settle once it is done.
	var before []byte
	settle := func(l *lab) {
		before = storeDump(t, l.store)
	}
	for _, tt := range []struct {
		name string
		do   func(l *lab, n *node, res *Issued) (string, error)
		want string
	}{
		{"more than the pool has", func(l *lab, _ *node, _ *Issued) (string, error) {
			_, err := l.portal.Reserve(ReserveOptions{Virtual: "TAC", Product: other, Licenses: lic("Enhanced=7")})
			return "", err
		}, `virtual account "TAC" has only 6 UC Manager Enhanced License (12.x) free to reserve, not 7 (10 purchased, 4 reserved by other products, 0 in use); reserve fewer or add licenses with: cssm license add --virtual "TAC" --tier Enhanced --count N`},
		{"a tier the account does not have", func(l *lab, _ *node, _ *Issued) (string, error) {
			_, err := l.portal.Reserve(ReserveOptions{Virtual: "TAC", Product: other, Licenses: lic("CUWL=1")})
			return "", err
		}, `has only 0 UC Manager CUWL License (12.X) free to reserve, not 1`},
		{"an update beyond the pool", func(l *lab, n *node, _ *Issued) (string, error) {
			_, err := l.portal.UpdateReservation(ReserveOptions{Product: n.requestCode(), Licenses: lic("Enhanced=11")})
			return "", err
		}, `has only 10 UC Manager Enhanced License (12.x) free to reserve, not 11 (10 purchased, 0 reserved by other products, 0 in use)`},
		{"TERM longer than any TERM license", func(l *lab, _ *node, _ *Issued) (string, error) {
			l.must(l.portal.AddLicense("TAC", LicenseSpec{Tier: "CUWL", Count: 3, TermEnd: "2027-12-31"}))
			settle(l)
			_, err := l.portal.Reserve(ReserveOptions{Virtual: "TAC", Product: other, Licenses: lic("CUWL=1:TERM:2028-01-01")})
			return "", err
		}, `virtual account "TAC" has only 0 TERM UC Manager CUWL License (12.X) lasting through 2028-01-01 free to reserve, not 1`},
		{"perpetual from TERM licenses", func(l *lab, _ *node, _ *Issued) (string, error) {
			l.must(l.portal.AddLicense("TAC", LicenseSpec{Tier: "CUWL", Count: 3, TermEnd: "2027-12-31"}))
			settle(l)
			_, err := l.portal.Reserve(ReserveOptions{Virtual: "TAC", Product: other, Licenses: lic("CUWL=1")})
			return "", err
		}, `virtual account "TAC" has only 0 perpetual UC Manager CUWL License (12.X) free to reserve, not 1`},
		{"a second reservation for one product", func(l *lab, n *node, _ *Issued) (string, error) {
			_, err := l.portal.Reserve(ReserveOptions{Virtual: "TAC", Product: n.requestCode(), Licenses: lic("Enhanced=1")})
			return "", err
		}, `already has a reservation (product instance `},
		{"a bad request code", func(l *lab, _ *node, _ *Issued) (string, error) {
			_, err := l.portal.Reserve(ReserveOptions{Virtual: "TAC", Product: "P:UCM,S:00000,U:" + uuidB, Licenses: lic("Enhanced=1")})
			return "", err
		}, `The request code has serial number "00000", but the serial number must be the last five hex digits of the UUID (37624).`},
		{"an unknown virtual account", func(l *lab, _ *node, _ *Issued) (string, error) {
			_, err := l.portal.Reserve(ReserveOptions{Virtual: "Nope", Product: other, Licenses: lic("Enhanced=1")})
			return "", err
		}, `there is no virtual account "Nope"`},
		{"no licenses", func(l *lab, _ *node, _ *Issued) (string, error) {
			_, err := l.portal.Reserve(ReserveOptions{Virtual: "TAC", Product: other})
			return "", err
		}, `give at least one --license TIER=COUNT`},
		{"one tier twice", func(l *lab, _ *node, _ *Issued) (string, error) {
			_, err := l.portal.Reserve(ReserveOptions{Virtual: "TAC", Product: other, Licenses: lic("Enhanced=1", "Enhanced=2")})
			return "", err
		}, `--license gives Enhanced more than once`},
		{"update of a product without a reservation", func(l *lab, _ *node, _ *Issued) (string, error) {
			_, err := l.portal.UpdateReservation(ReserveOptions{Product: other, Licenses: lic("Enhanced=1")})
			return "", err
		}, `there is no reservation for ` + other + `; list them with: cssm reservation list`},
		{"update in the wrong virtual account", func(l *lab, n *node, _ *Issued) (string, error) {
			l.must(l.portal.CreateAccount("BU", "Other"))
			settle(l)
			_, err := l.portal.UpdateReservation(ReserveOptions{Virtual: "Other", Product: n.requestCode(), Licenses: lic("Enhanced=1")})
			return "", err
		}, `is in virtual account "TAC", not "Other"`},
		{"a wrong confirmation code", func(l *lab, n *node, _ *Issued) (string, error) {
			return l.portal.ConfirmReservation("TAC", n.requestCode(), "17488c1f")
		}, `the confirmation code does not match any authorization code issued to P:UCM,S:cc920,U:` + uuidA + ` that awaits confirmation`},
		{"a confirmation code that is not one", func(l *lab, n *node, _ *Issued) (string, error) {
			return l.portal.ConfirmReservation("TAC", n.requestCode(), "1748-8c1f")
		}, `the confirmation code "1748-8c1f" is not 8 hex digits`},
		{"a wrong return code", func(l *lab, n *node, _ *Issued) (string, error) {
			return l.portal.ReturnReservation("TAC", n.requestCode(), "ChWhde-okvz5f-ckFy8a-aSx4AK-Qf1iFZ-WXYaP1-wwDwmB-K5SEWq-rbr")
		}, `the return code does not match any authorization code issued to P:UCM,S:cc920,U:` + uuidA + ` that the product may hold; nothing changed and the licenses stay reserved`},
		{"another product's return code", func(l *lab, n *node, _ *Issued) (string, error) {
			nb := l.node(uuidB)
			nb.install(l.reserve(nb.requestCode(), "Basic=1").Code)
			settle(l)
			_, err := l.portal.ReturnReservation("TAC", n.requestCode(), nb.returnCode())
			return "", err
		}, `the return code does not match`},
		{"a malformed return code", func(l *lab, n *node, res *Issued) (string, error) {
			return l.portal.RemoveInstance(res.InstanceID, RemoveOptions{ReturnCode: "ChWhde-okvz5f"})
		}, `The return code "ChWhde-okvz5f" is not in the form xxxxxx-`},
		{"removing a reservation without its return code", func(l *lab, _ *node, res *Issued) (string, error) {
			return l.portal.RemoveInstance(res.InstanceID, RemoveOptions{})
		}, `holds a Specific License Reservation (Enhanced=4) that would be lost: give the return code the node prints for 'license smart reservation return' with --return-code CODE, or add --force-without-return`},
		{"a wrong return code on remove", func(l *lab, _ *node, res *Issued) (string, error) {
			return l.portal.RemoveInstance(res.InstanceID, RemoveOptions{ReturnCode: "ChWhde-okvz5f-ckFy8a-aSx4AK-Qf1iFZ-WXYaP1-wwDwmB-K5SEWq-rbr"})
		}, `the return code does not match`},
		{"a return code and force", func(l *lab, n *node, res *Issued) (string, error) {
			return l.portal.RemoveInstance(res.InstanceID, RemoveOptions{ReturnCode: n.returnCode(), ForceWithoutReturn: true})
		}, `give either --return-code or --force-without-return, not both`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := newLab(t)
			l.addLicense("Enhanced", 10)
			l.addLicense("Basic", 5)
			n := l.node(uuidA)
			res := l.reserve(n.requestCode(), "Enhanced=4")
			n.install(res.Code)
			settle(l)
			out, err := tt.do(l, n, res)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %q, %v\nwant an error containing %q", out, err, tt.want)
			}
			if after := storeDump(t, l.store); !bytes.Equal(before, after) {
				t.Fatal("a refused action changed the store")
			}
		})
	}
}

func TestForceWithoutReturnKeepsTheLicencesOut(t *testing.T) {
	l := newLab(t)
	l.addLicense("Enhanced", 10)
	n := l.node(uuidA)
	res := l.reserve(n.requestCode(), "Enhanced=4")
	n.install(res.Code)

	out, err := l.portal.RemoveInstance(res.InstanceID, RemoveOptions{ForceWithoutReturn: true})
	if err != nil || !strings.Contains(out, "removed without a return code: Enhanced=4 stay out of virtual account \"TAC\"'s pool") {
		t.Fatalf("%q %v", out, err)
	}
	l.pool(map[string][2]int{"Enhanced": {4, 6}})
	if list, _ := l.portal.Instances("TAC"); len(list) != 0 {
		t.Fatalf("instance not removed: %+v", list)
	}
	var usage bytes.Buffer
	r, _ := l.portal.Usage("TAC")
	WriteUsage(&usage, r)
	if !strings.Contains(usage.String(), "Reserved includes Enhanced=4 held by 1 reservation removed without a return code.\n") {
		t.Fatalf("usage:\n%s", usage.String())
	}

	// The product may be reserved for again, and the lost licences still
	// come back if its old return code turns up.
	again := l.reserve(n.requestCode(), "Enhanced=2")
	l.pool(map[string][2]int{"Enhanced": {6, 4}})
	if _, err := l.portal.ReturnReservation("", n.requestCode(), n.returnCode()); err != nil {
		t.Fatal(err)
	}
	l.pool(map[string][2]int{"Enhanced": {2, 8}})
	if r := l.reservation(n.requestCode()); r.InstanceID != again.InstanceID {
		t.Fatalf("the new reservation went: %+v", r)
	}
}

// What the node does with the code: the real checks of package reservation.
func TestTheNodeAcceptsTheIssuedCode(t *testing.T) {
	l := newLab(t)
	l.addLicense("Enhanced", 10)
	l.must(l.portal.AddLicense("TAC", LicenseSpec{Tier: "CUWL", Count: 2, TermEnd: "2027-12-31"}))
	n := l.node(uuidA)
	allow := true
	res, err := l.portal.Reserve(ReserveOptions{Virtual: "TAC", Product: "P:UCM, S:CC920, U:" + strings.ToUpper(uuidA),
		Licenses: lic("Enhanced=5", "CUWL=2:TERM:2027-12-31"), AllowExport: &allow})
	if err != nil {
		t.Fatal(err)
	}
	if res.TrustWritten != filepath.Join(n.trust, "cssm.pem") {
		t.Errorf("trust written to %q", res.TrustWritten)
	}

	ac, err := n.check(res.Code)
	if err != nil {
		t.Fatal(err)
	}
	if ac.Flag != "A" || ac.Version != "C" || ac.PIID != res.InstanceID || !ac.Timestamp.Equal(t0) || !ac.ExportAllowed || ac.UDI != n.udi {
		t.Fatalf("code fields: %+v", ac)
	}
	want := []reservation.Entitlement{
		{Tag: tag("CUWL"), Count: 2, Type: reservation.LicenseTerm, Start: t0.Truncate(24 * time.Hour), End: time.Date(2027, 12, 31, 0, 0, 0, 0, time.UTC),
			DisplayName: "UC Manager CUWL License (12.X)", Description: "UC Manager CUWL License"},
		{Tag: tag("Enhanced"), Count: 5, Type: reservation.LicensePerpetual,
			DisplayName: "UC Manager Enhanced License (12.x)", Description: "UC Manager Enhanced License"},
	}
	if len(ac.Entitlements) != len(want) {
		t.Fatalf("entitlements: %+v", ac.Entitlements)
	}
	for i, e := range ac.Entitlements {
		if e.Tag != want[i].Tag || e.Count != want[i].Count || e.Type != want[i].Type || !e.Start.Equal(want[i].Start) || !e.End.Equal(want[i].End) ||
			e.DisplayName != want[i].DisplayName || e.Description != want[i].Description {
			t.Errorf("entitlement %d: %+v\nwant %+v", i, e, want[i])
		}
	}
	if !strings.Contains(res.Code, "<startDate>2026-Jan-15 UTC</startDate><endDate>2027-Dec-31 UTC</endDate><licenseType>TERM</licenseType>") {
		t.Errorf("TERM dates: %s", res.Code)
	}

	// Another node refuses it, and so does a node that trusts another server.
	other := l.node(uuidB)
	if _, err := other.check(res.Code); !errors.Is(err, reservation.ErrWrongUDI) {
		t.Errorf("another node: %v", err)
	}
	key, _ := reservation.GenerateKey()
	stranger := &node{t: t, udi: n.udi, trust: t.TempDir(), now: t0}
	os.WriteFile(filepath.Join(stranger.trust, "other.pem"), reservation.MarshalPublicKeyPEM(&key.PublicKey), 0o600)
	if _, err := stranger.check(res.Code); !errors.Is(err, reservation.ErrBadSignature) {
		t.Errorf("a node trusting another server: %v", err)
	}
	// After the TERM licence's last day the node refuses the code.
	n.now = time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := n.check(res.Code); !errors.Is(err, reservation.ErrExpired) {
		t.Errorf("after the term: %v", err)
	}
}

func TestTermReservations(t *testing.T) {
	for _, tt := range []struct {
		name    string
		pool    []string // TERM end days of 2 CUWL licences each
		reserve []string
		want    string // "" for success
		end     string // the code's end day on success
	}{
		{"an end day within a license's term", []string{"2027-12-31"}, []string{"CUWL=2:TERM:2027-06-30"}, "", "2027-Jun-30"},
		{"no end day: the latest license's", []string{"2026-12-31", "2027-12-31"}, []string{"CUWL=1:TERM"}, "", "2027-Dec-31"},
		{"more than last long enough", []string{"2026-12-31", "2027-12-31"}, []string{"CUWL=3:TERM:2027-01-01"}, "has only 2 TERM UC Manager CUWL License (12.X) lasting through 2027-01-01 free to reserve, not 3", ""},
		{"short ones first, then long ones", []string{"2026-12-31", "2027-12-31"}, []string{"CUWL=4:TERM:2026-06-30"}, "", "2026-Jun-30"},
		{"no TERM licenses to take the day from", nil, []string{"CUWL=1:TERM"}, `virtual account "TAC" has no TERM CUWL license in date to take the end day from`, ""},
		{"an end day already past", []string{"2027-12-31"}, []string{"CUWL=1:TERM:2026-01-14"}, "--license CUWL:TERM:2026-01-14 ends before today, 2026-01-15", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := newLab(t)
			for _, end := range tt.pool {
				l.must(l.portal.AddLicense("TAC", LicenseSpec{Tier: "CUWL", Count: 2, TermEnd: end}))
			}
			res, err := l.portal.Reserve(ReserveOptions{Virtual: "TAC", Product: l.node(uuidA).requestCode(), Licenses: lic(tt.reserve...)})
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error %v, want one containing %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(res.Code, "<endDate>"+tt.end+" UTC</endDate>") {
				t.Fatalf("code does not end %s: %s", tt.end, res.Code)
			}
		})
	}
}

func TestCodeTimestampsStrictlyIncreasePerProduct(t *testing.T) {
	l := newLab(t) // its clock stands still: every code is issued in the same millisecond
	l.addLicense("Enhanced", 10)
	n := l.node(uuidA)
	var stamps []time.Time
	stamp := func(res *Issued) {
		ac, err := n.check(res.Code)
		if err != nil {
			t.Fatal(err)
		}
		stamps = append(stamps, ac.Timestamp)
		n.installed = ac // the node refuses anything not newer than this
	}
	stamp(l.reserve(n.requestCode(), "Enhanced=1"))
	stamp(l.update(n.requestCode(), "Enhanced=2"))
	// A fresh process on the same store (as each `cssm --now ...` command is).
	again, err := openStore(t, l.store.Dir())
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	p := &Portal{Store: again, Clock: clock.Fixed(t0)}
	res, err := p.UpdateReservation(ReserveOptions{Product: n.requestCode(), Licenses: lic("Enhanced=3")})
	if err != nil {
		t.Fatal(err)
	}
	stamp(res)
	// Returned and reserved again: still newer than anything the node saw.
	l.must(l.portal.ReturnReservation("", n.requestCode(), n.returnCode()))
	stamp(l.reserve(n.requestCode(), "Enhanced=1"))
	// cssm's clock set back: still newer.
	l.clock.Add(-time.Hour)
	stamp(l.update(n.requestCode(), "Enhanced=1"))

	for i, s := range stamps {
		if want := t0.Add(time.Duration(i) * time.Millisecond); !s.Equal(want) {
			t.Errorf("code %d: timestamp %s, want %s", i, s.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
		}
	}

	// With the real clock, many codes within a millisecond still increase.
	real := &Portal{Store: l.store, Clock: clock.System{}}
	var last time.Time
	for range 5 {
		res, err := real.UpdateReservation(ReserveOptions{Product: n.requestCode(), Licenses: lic("Enhanced=1")})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Timestamp.After(last) {
			t.Fatalf("timestamp %s after %s", res.Timestamp.Format(time.RFC3339Nano), last.Format(time.RFC3339Nano))
		}
		last = res.Timestamp
	}
}

func TestConfirmingAnOlderCodeKeepsTheNewerInTransit(t *testing.T) {
	l := newLab(t)
	l.addLicense("Enhanced", 10)
	n := l.node(uuidA)
	first := l.reserve(n.requestCode(), "Enhanced=2")
	second := l.update(n.requestCode(), "Enhanced=3")
	l.update(n.requestCode(), "Enhanced=1")
	l.pool(map[string][2]int{"Enhanced": {3, 7}}) // the most any of the three codes holds

	// The node installed the second code only.
	n.install(second.Code)
	out, err := l.portal.ConfirmReservation("TAC", n.requestCode(), reservation.ConfirmationCode(n.installed))
	if err != nil || !strings.Contains(out, "A newer code issued 2026-01-15 10:00:00.002 UTC is still in transit.") {
		t.Fatalf("%q %v", out, err)
	}
	l.pool(map[string][2]int{"Enhanced": {3, 7}}) // second and third may be held
	if r := l.reservation(n.requestCode()); r.State != ReservationUpdateInTransit {
		t.Fatalf("state %s", r.State)
	}
	// The first code can no longer be on the node, so its return code is refused.
	if _, err := l.portal.ReturnReservation("TAC", n.requestCode(), n.returnAuthorization(first.Code)); err == nil {
		t.Fatal("the return code of a superseded code was accepted")
	}
	// Entering the same confirmation code again changes nothing.
	out, err = l.portal.ConfirmReservation("TAC", n.requestCode(), reservation.ConfirmationCode(n.installed))
	if err != nil || !strings.Contains(out, "was already entered") {
		t.Fatalf("%q %v", out, err)
	}
}

// The pool as a running `cssm serve` sees it: a reservation made by a portal
// command in another process counts against the products' compliance, and a
// reserved product cannot register.
func TestServeSeesReservations(t *testing.T) {
	a := newAPI(t)
	a.addLicense("Enhanced", 10)
	id, cred := a.register(a.token(TokenOptions{}), 1)
	var auth cssmapi.AuthorizeResponse
	a.authorize(id, cred, &auth, cssmapi.Usage{Tag: tag("Enhanced"), Count: 6})

	portalStore, err := openStore(t, a.store.Dir())
	if err != nil {
		t.Fatal(err)
	}
	defer portalStore.Close()
	p := &Portal{Store: portalStore, Clock: a.clock}
	n := a.node(uuidA)
	if _, err := p.Reserve(ReserveOptions{Virtual: "TAC", Product: n.requestCode(), Licenses: lic("Enhanced=5")}); err == nil ||
		!strings.Contains(err.Error(), "has only 4 UC Manager Enhanced License (12.x) free to reserve, not 5 (10 purchased, 0 reserved by other products, 6 in use)") {
		t.Fatalf("reserve: %v", err)
	}
	if _, err := p.Reserve(ReserveOptions{Virtual: "TAC", Product: n.requestCode(), Licenses: lic("Enhanced=4")}); err != nil {
		t.Fatal(err)
	}
	a.authorize(id, cred, &auth, cssmapi.Usage{Tag: tag("Enhanced"), Count: 6})
	if auth.Status != cssmapi.StatusAuthorized {
		t.Fatalf("6 of the 6 unreserved: %+v", auth)
	}
	a.authorize(id, cred, &auth, cssmapi.Usage{Tag: tag("Enhanced"), Count: 7})
	if auth.Status != cssmapi.StatusOutOfCompliance {
		t.Fatalf("7 of the 6 unreserved: %+v", auth)
	}

	tok := a.token(TokenOptions{})
	status, out := a.post(cssmapi.PathRegister, "", cssmapi.RegisterRequest{Token: tok, UDI: n.udi.String(), Hostname: "cucm-a", Force: true})
	wantError(t, status, out, cssmapi.CodeAlreadyRegistered)
	if status != http.StatusConflict || !strings.Contains(out["message"].(string), "holds a Specific License Reservation") {
		t.Fatalf("register of a reserved product: %d %v", status, out)
	}
	// And a registered product cannot be reserved for.
	_, err = p.Reserve(ReserveOptions{Virtual: "TAC", Product: udi(1), Licenses: lic("Enhanced=1")})
	if err == nil || !strings.Contains(err.Error(), "is registered as product instance "+id) {
		t.Fatalf("reserve for a registered product: %v", err)
	}
}

func TestReservationsSurviveARestart(t *testing.T) {
	l := newLab(t)
	l.addLicense("Enhanced", 10)
	n := l.node(uuidA)
	res := l.reserve(n.requestCode(), "Enhanced=4")
	l.must(l.portal.ConfirmReservation("TAC", n.requestCode(), n.install(res.Code)))
	l.update(n.requestCode(), "Enhanced=6")
	l.store.Close()

	s, err := openStore(t, l.store.Dir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := &Portal{Store: s, Clock: l.clock}
	list, err := p.Reservations("")
	if err != nil || len(list) != 1 {
		t.Fatalf("%+v %v", list, err)
	}
	r := list[0]
	if r.State != ReservationUpdateInTransit || FormatLicenses(r.Licenses) != "Enhanced=6" || r.Confirmation != reservation.ConfirmationCode(n.installed) ||
		!r.Issued.Equal(t0.Add(time.Millisecond)) {
		t.Fatalf("after a restart: %+v", r)
	}
	// The installed code's return code still works from the reloaded store.
	if _, err := p.RemoveInstance(res.InstanceID, RemoveOptions{ReturnCode: n.returnCode()}); err != nil {
		t.Fatal(err)
	}
}

func TestReservationListing(t *testing.T) {
	l := newLab(t)
	l.addLicense("Enhanced", 10)
	l.addLicense("Basic", 5)
	a, b := l.node(uuidA), l.node(uuidB)
	resA := l.reserve(a.requestCode(), "Enhanced=5", "Basic=3")
	confirmation := a.install(resA.Code)
	l.must(l.portal.ConfirmReservation("TAC", a.requestCode(), confirmation))
	resB := l.reserve(b.requestCode(), "Basic=1")

	var out bytes.Buffer
	list, err := l.portal.Reservations("TAC")
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteReservations(&out, list); err != nil {
		t.Fatal(err)
	}
	want := `+--------------------------------------+--------------------------------------------------------+-----------------+------------+---------------------+-------------+-----------------------------+-------------------+
| Instance ID                          | UDI                                                    | Virtual Account | State      | Licenses            | Export      | Last Code Issued            | Confirmation Code |
+--------------------------------------+--------------------------------------------------------+-----------------+------------+---------------------+-------------+-----------------------------+-------------------+
| ` + resB.InstanceID + ` | PID:UCM,SN:37624,UUID:6fe83addc80240bc92dc071ac7a37624 | TAC             | In Transit | Basic=1             | Not Allowed | 2026-01-15 10:00:00.000 UTC | -                 |
| ` + resA.InstanceID + ` | PID:UCM,SN:cc920,UUID:e53fc96802534d61a355ba908a6cc920 | TAC             | Installed  | Enhanced=5, Basic=3 | Not Allowed | 2026-01-15 10:00:00.000 UTC | ` + confirmation + `          |
+--------------------------------------+--------------------------------------------------------+-----------------+------------+---------------------+-------------+-----------------------------+-------------------+
`
	if out.String() != want {
		t.Fatalf("reservation list:\n%s\nwant:\n%s", out.String(), want)
	}

	out.Reset()
	insts, _ := l.portal.Instances("TAC")
	WriteInstances(&out, insts)
	if !strings.Contains(out.String(), "| "+resA.InstanceID+" | -         | PID:UCM,SN:cc920,UUID:e53fc96802534d61a355ba908a6cc920 | TAC             | Not Allowed | Installed: Enhanced=5, Basic=3 |") {
		t.Fatalf("instance list:\n%s", out.String())
	}

	out.Reset()
	r, _ := l.portal.Usage("TAC")
	WriteUsage(&out, r)
	for _, row := range []string{
		"| UC Manager Enhanced License (12.x)          |        10 |        5 |      0 |            - |       5 | InCompliance |",
		"| UC Manager Basic License  (12.x)            |         5 |        4 |      0 |            - |       1 | InCompliance |",
	} {
		if !strings.Contains(out.String(), row) {
			t.Errorf("usage lacks %q:\n%s", row, out.String())
		}
	}

	out.Reset()
	WriteReservations(&out, nil)
	if out.String() != "No license reservations.\n" {
		t.Fatalf("empty list: %q", out.String())
	}
}

func TestParseLicenseRequest(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want LicenseRequest
		err  string
	}{
		{"Enhanced=5", LicenseRequest{Tag: tag("Enhanced"), Count: 5, Type: Perpetual}, ""},
		{"enhanced plus=1", LicenseRequest{Tag: tag("EnhancedPlus"), Count: 1, Type: Perpetual}, ""},
		{"CUWL=2:TERM:2027-12-31", LicenseRequest{Tag: tag("CUWL"), Count: 2, Type: Term, End: "2027-12-31"}, ""},
		{"CUWL=2:term", LicenseRequest{Tag: tag("CUWL"), Count: 2, Type: Term}, ""},
		{"Basic=3:PERPETUAL", LicenseRequest{Tag: tag("Basic"), Count: 3, Type: Perpetual}, ""},
		{tag("Basic") + "=3", LicenseRequest{Tag: tag("Basic"), Count: 3, Type: Perpetual}, ""},
		{"Enhanced", LicenseRequest{}, `--license "Enhanced" is not TIER=COUNT`},
		{"Enhanced=0", LicenseRequest{}, `the count must be from 1 to 1000000, not 0`},
		{"Enhanced=-1", LicenseRequest{}, `is not TIER=COUNT`},
		{"Gold=1", LicenseRequest{}, `"Gold" is not a license tier or tag`},
		{"CUWL=1:TERM:31/12/2027", LicenseRequest{}, `the TERM end day "31/12/2027" is not a date (YYYY-MM-DD)`},
		{"CUWL=1:PERPETUAL:2027-12-31", LicenseRequest{}, `is not TIER=COUNT`},
		{"CUWL=1:RENTAL", LicenseRequest{}, `is not TIER=COUNT`},
	} {
		got, err := ParseLicenseRequest(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: %v, want an error containing %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: %+v %v, want %+v", tt.in, got, err, tt.want)
		}
	}
}
