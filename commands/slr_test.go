package commands

import (
	"crypto/ecdsa"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/cryptotest"
	"time"
	"unicode"

	"github.com/ucmsh/ucmsh/cssmapi"
	"github.com/ucmsh/ucmsh/golden"
	"github.com/ucmsh/ucmsh/internal/statedir"
	"github.com/ucmsh/ucmsh/publisher"
	"github.com/ucmsh/ucmsh/reservation"
)

// slrNode is a node whose trust folder holds the key of a test CSSM that
// signs authorization codes for it.
type slrNode struct {
	*node
	key *ecdsa.PrivateKey
	udi reservation.UDI
}

func newSLRNode(t *testing.T) *slrNode {
	t.Helper()
	n := newNode(t)
	key, err := reservation.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	trust := filepath.Join(n.store.Dir(), "trust")
	if err := os.MkdirAll(trust, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(trust, "cssm.pem"), reservation.MarshalPublicKeyPEM(&key.PublicKey), 0o600); err != nil {
		t.Fatal(err)
	}
	udi, err := reservation.NewUDI("UCM", testUUID)
	if err != nil {
		t.Fatal(err)
	}
	return &slrNode{node: n, key: key, udi: udi}
}

// code signs an authorization code issued at the given time, reserving
// counts by tier ("Enhanced": 5).
func (s *slrNode) code(t *testing.T, issued time.Time, counts map[string]int, export bool) string {
	t.Helper()
	ac := &reservation.AuthCode{Flag: "A", Version: "C", PIID: "d8a3c5b2-1f4e-4c6a-9b7d-2e5f8a1c3b4d", Timestamp: issued,
		UDI: s.udi, ExportAllowed: export}
	for _, e := range cssmapi.Entitlements {
		if n, ok := counts[e.Tier]; ok {
			ac.Entitlements = append(ac.Entitlements, reservation.Entitlement{Tag: e.Tag, Count: n,
				Type: reservation.LicensePerpetual, DisplayName: e.DisplayName, Description: e.Description()})
		}
	}
	text, err := reservation.Sign(s.key, ac)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

func (s *slrNode) do(t *testing.T, at time.Duration, line string, answers ...string) string {
	t.Helper()
	out, res := run(s.at(t0.Add(at), labUsage), line, answers...)
	if res != OK {
		t.Fatalf("%s failed:\n%s", line, out)
	}
	return out
}

var enough = map[string]int{"Enhanced": 5, "Basic": 3, "Essential": 2}

// Every report in every reservation state.
func TestReservationReports(t *testing.T) {
	for _, st := range []struct {
		name string
		run  func(t *testing.T, s *slrNode)
	}{
		{"reservation_in_progress", func(t *testing.T, s *slrNode) {
			s.do(t, 0, "license smart reservation enable")
			s.do(t, 0, "license smart reservation request")
		}},
		{"reserved", func(t *testing.T, s *slrNode) {
			s.do(t, 0, "license smart reservation enable")
			s.do(t, 0, "license smart reservation request")
			s.do(t, time.Hour, `license smart reservation install "`+s.code(t, t0, enough, false)+`"`)
		}},
		// Enhanced is short and CUWL spare: under reservation no tier borrows.
		{"reserved_not_authorized", func(t *testing.T, s *slrNode) {
			s.do(t, 0, "license smart reservation enable")
			s.do(t, 0, "license smart reservation request")
			s.do(t, time.Hour, `license smart reservation install "`+s.code(t, t0, map[string]int{"CUWL": 20, "Enhanced": 2, "Basic": 3, "Essential": 2}, false)+`"`)
		}},
		{"reserved_export_allowed", func(t *testing.T, s *slrNode) {
			s.do(t, 0, "license smart reservation enable")
			s.do(t, 0, "license smart reservation request")
			s.do(t, time.Hour, `license smart reservation install "`+s.code(t, t0, enough, true)+`"`)
		}},
		// Issue 10.2: counts raised by editing state.json grant nothing.
		{"reserved_tampered", func(t *testing.T, s *slrNode) {
			s.do(t, 0, "license smart reservation enable")
			s.do(t, 0, "license smart reservation request")
			s.do(t, time.Hour, `license smart reservation install "`+s.code(t, t0, enough, false)+`"`)
			s.editCode(t, func(c string) string { return strings.Replace(c, "<count>5</count>", "<count>50</count>", 1) })
		}},
	} {
		t.Run(st.name, func(t *testing.T) {
			// Signatures, and the confirmation codes made from them, are
			// random; a fixed seed makes them repeatable.
			cryptotest.SetGlobalRandom(t, 1)
			s := newSLRNode(t)
			st.run(t, s)
			r := s.at(t0.Add(2*time.Hour), labUsage)
			for file, cmd := range reports {
				out, res := run(r, cmd)
				if res != OK {
					t.Fatalf("%s failed:\n%s", cmd, out)
				}
				golden.Check(t, st.name+"/"+file, asUsersSeeIt(out))
			}
		})
	}
}

// The whole air-gapped flow, and each refusal on the way.
func TestReservationFlow(t *testing.T) {
	s := newSLRNode(t)
	fail := func(at time.Duration, line, want string, answers ...string) {
		t.Helper()
		out, res := run(s.at(t0.Add(at), labUsage), line, answers...)
		if res != Failed || !strings.Contains(out, want) {
			t.Fatalf("%s:\n%s\nwant a failure saying %q", line, out, want)
		}
	}
	fail(0, "license smart reservation request", "License reservation mode is not enabled")
	if out := s.do(t, 0, "license smart reservation enable"); out != "\nLicense reservation mode is enabled successfully.\n" {
		t.Fatalf("%q", out)
	}
	fail(0, "license smart reservation enable", "already enabled")
	fail(0, "license smart register idtoken abc", "Specific License Reservation is enabled on this node")
	fail(0, `license smart reservation install "`+s.code(t, t0, enough, false)+`"`, "No reservation request code has been generated")
	fail(0, "license smart reservation cancel", "No reservation request is in progress")
	if out := s.do(t, 0, "license smart reservation request"); out != "\nP:UCM,S:37624,U:6fe83add-c802-40bc-92dc-071ac7a37624\n" {
		t.Fatalf("request code %q", out)
	}
	s.do(t, 0, "license smart reservation cancel")
	s.do(t, 0, "license smart reservation request")

	// Refused codes: each says why, and nothing is installed.
	other := &slrNode{node: s.node, key: s.key}
	other.udi, _ = reservation.NewUDI("UCM", "e53fc96802534d61a355ba908a6cc920")
	fail(0, `license smart reservation install "`+other.code(t, t0, enough, false)+`"`, "does not match the Reservation Request Code")
	forged := newSLRNode(t) // signed by a key this node does not trust
	forged.udi = s.udi
	fail(0, `license smart reservation install "`+forged.code(t, t0, enough, false)+`"`, "signature")
	good := s.code(t, t0, enough, false)
	fail(0, `license smart reservation install "`+good[:len(good)/2]+`"`, "truncated")
	fail(0, `license smart reservation install "`+strings.Replace(good, "<count>5</count>", "<count>9</count>", 1)+`"`, "signature")

	// A code pasted across lines installs.
	wrapped := good[:70] + "\n" + good[70:150] + "\r\n" + good[150:]
	out := s.do(t, time.Hour, `license smart reservation install "`+wrapped+`"`)
	if !strings.HasPrefix(out, "Authorization code installed successfully.\nPlease enter the confirmation code to CSSM account:") {
		t.Fatal(out)
	}
	fail(time.Hour, "license smart reservation disable", "Return it first")
	fail(time.Hour, "license smart deregister", "uses a Specific License Reservation")
	fail(time.Hour, `license smart reservation install "`+good+`"`, "is not newer than the one last installed") // a replay
	// Updating with a newer code prints only the new confirmation code
	// (seed 003).
	newer := s.code(t, t0.Add(time.Hour), map[string]int{"Enhanced": 6, "Basic": 3, "Essential": 2}, false)
	if out2 := s.do(t, 2*time.Hour, `license smart reservation install "`+newer+`"`); out2 == out || !strings.HasPrefix(out2, "Please enter the confirmation code to CSSM account:") || strings.Count(out2, "\n") != 1 {
		t.Fatalf("the update printed %q", out2)
	}
	fail(3*time.Hour, `license smart reservation install "`+good+`"`, "is not newer than the one last installed") // a downgrade

	// Return: confirmed with y; n keeps everything.
	if out := s.do(t, 4*time.Hour, "license smart reservation return", "n"); !strings.Contains(out, "The reservation is kept") {
		t.Fatal(out)
	}
	out = s.do(t, 4*time.Hour, "license smart reservation return", "y")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	rc, err := reservation.ParseReturnCode(lines[len(lines)-1])
	if err != nil {
		t.Fatalf("return code: %v\n%s", err, out)
	}
	ac, _ := reservation.ParseAuthCode(newer)
	if !reservation.VerifyReturnCode(rc, ac) {
		t.Fatal("CSSM could not verify the return code")
	}
	if s := s.do(t, 4*time.Hour, "show license status"); !strings.Contains(s, "Status: UNREGISTERED") || !strings.Contains(s, "  Status: DISABLED") {
		t.Fatal(s)
	}

	// return-authorization: a code generated but never installed.
	s.do(t, 5*time.Hour, "license smart reservation enable")
	s.do(t, 5*time.Hour, "license smart reservation request")
	unused := s.code(t, t0.Add(5*time.Hour), enough, false)
	out = s.do(t, 5*time.Hour, `license smart reservation return authorization "`+unused+`"`)
	if !strings.HasPrefix(out, "Enter this return code in CSSM to return the reserved licenses:\n") {
		t.Fatal(out)
	}
	s.do(t, 5*time.Hour, "license smart reservation disable")

	// Factory reset keeps the reservation sequence: the old code stays refused.
	s.do(t, 6*time.Hour, "license smart factory reset")
	s.do(t, 6*time.Hour, "license smart reservation enable")
	s.do(t, 6*time.Hour, "license smart reservation request")
	fail(6*time.Hour, `license smart reservation install "`+good+`"`, "is not newer than the one last installed")
	fail(6*time.Hour, `license smart reservation install "`+newer+`"`, "was already returned")
}

// Issue 10.1: a code whose licenses went back to CSSM never installs
// again, whether it was returned after an install or never installed; the
// refusal says why, and the sequence moves past it.
func TestReturnedCodeNeverInstallsAgain(t *testing.T) {
	s := newSLRNode(t)
	fail := func(at time.Duration, line, want string) {
		t.Helper()
		out, res := run(s.at(t0.Add(at), labUsage), line)
		if res != Failed || !strings.Contains(out, want) {
			t.Fatalf("%s:\n%s\nwant a failure saying %q", line, out, want)
		}
	}
	s.do(t, 0, "license smart reservation enable")
	s.do(t, 0, "license smart reservation request")
	unused := s.code(t, t0, enough, false)
	out := s.do(t, 0, `license smart reservation return-authorization "`+unused+`"`)
	// The licenses are back in CSSM: the same code must not grant them here.
	s.do(t, time.Hour, "license smart reservation request")
	fail(time.Hour, `license smart reservation install "`+unused+`"`, "was already returned (return code "+strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])+")")
	// Nor a code issued before it (the sequence moved past it).
	older := s.code(t, t0.Add(-time.Minute), enough, false)
	fail(time.Hour, `license smart reservation install "`+older+`"`, "is not newer than the one last installed")

	// Installed, then returned: refused as returned, after a factory reset too.
	code := s.code(t, t0.Add(time.Hour), enough, false)
	s.do(t, time.Hour, `license smart reservation install "`+code+`"`)
	s.do(t, 2*time.Hour, "license smart reservation return", "y")
	s.do(t, 2*time.Hour, "license smart factory reset")
	s.do(t, 2*time.Hour, "license smart reservation enable")
	s.do(t, 2*time.Hour, "license smart reservation request")
	fail(2*time.Hour, `license smart reservation install "`+code+`"`, "was already returned")
	// A new code installs.
	s.do(t, 3*time.Hour, `license smart reservation install "`+s.code(t, t0.Add(3*time.Hour), enough, false)+`"`)
}

// editCode rewrites the installed code's text in state.json, as someone
// editing the file by hand would.
func (s *slrNode) editCode(t *testing.T, edit func(string) string) {
	t.Helper()
	path := statedir.Node(s.store.Dir()).State()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	code := st["reservation"].(map[string]any)["code"].(map[string]any)
	text := code["text"].(string)
	if code["text"] = edit(text); code["text"] == text {
		t.Fatal("the edit changed nothing")
	}
	if data, err = json.Marshal(st); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Issue 10.2: the installed code is verified again whenever it is used. A
// state file whose code no longer verifies grants nothing, and show license
// status says why.
func TestEditedCodeGrantsNothing(t *testing.T) {
	for _, tc := range []struct {
		name, why string
		edit      func(s *slrNode, t *testing.T, code string) string
	}{
		{"counts raised", "signature does not match", func(_ *slrNode, _ *testing.T, c string) string {
			return strings.Replace(c, "<count>1</count>", "<count>500</count>", 1)
		}},
		{"export flag added", "signature does not match", func(_ *slrNode, _ *testing.T, c string) string {
			return strings.Replace(c, "</entitlements></authorizationCode>", "</entitlements><exportAllowed>true</exportAllowed></authorizationCode>", 1)
		}},
		{"another node's code", "does not match the Reservation Request Code", func(s *slrNode, t *testing.T, _ string) string {
			other := *s
			other.udi = reservation.UDI{PID: "UCM", SN: "cc920", UUID: "e53fc96802534d61a355ba908a6cc920"}
			return other.code(t, t0, map[string]int{"Enhanced": 500, "Basic": 3, "Essential": 2}, true)
		}},
		{"an older code put back", "not the newest code", func(s *slrNode, t *testing.T, _ string) string {
			return s.code(t, t0.Add(-time.Hour), map[string]int{"Enhanced": 500, "Basic": 3, "Essential": 2}, true)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSLRNode(t)
			s.do(t, 0, "license smart reservation enable")
			s.do(t, 0, "license smart reservation request")
			s.do(t, time.Hour, `license smart reservation install "`+s.code(t, t0, map[string]int{"Enhanced": 1, "Basic": 3, "Essential": 2}, false)+`"`)
			s.editCode(t, func(c string) string { return tc.edit(s, t, c) })

			status := s.do(t, 2*time.Hour, "show license status")
			for _, want := range []string{"Status: NOT AUTHORIZED - RESERVED", "Authorization Code Verification: FAILED", "Failure reason: ", tc.why, "Export-Controlled Functionality: Not Allowed"} {
				if !strings.Contains(status, want) {
					t.Errorf("show license status lacks %q:\n%s", want, status)
				}
			}
			if usage := s.do(t, 2*time.Hour, "show license usage"); strings.Contains(usage, "ReservedAuthorized") {
				t.Errorf("an edited code still authorizes:\n%s", usage)
			}
			if out, _ := run(s.at(t0.Add(2*time.Hour), labUsage), "license smart export request local "+publisher.ExportFeature); !strings.Contains(out, "not allowed") {
				t.Errorf("export under an edited code:\n%s", out)
			}
		})
	}
}

// Issue 10.3: bidi, zero-width and other invisible characters of signed
// text are printed escaped, never raw.
func TestSignedTextPrintedEscaped(t *testing.T) {
	s := newSLRNode(t)
	s.do(t, 0, "license smart reservation enable")
	s.do(t, 0, "license smart reservation request")
	ac := &reservation.AuthCode{Flag: "A", Version: "C", PIID: "d8a3c5b2-1f4e-4c6a-9b7d-2e5f8a1c3b4d", Timestamp: t0, UDI: s.udi}
	for _, e := range cssmapi.Entitlements {
		if n, ok := enough[e.Tier]; ok {
			ac.Entitlements = append(ac.Entitlements, reservation.Entitlement{Tag: e.Tag, Count: n, Type: reservation.LicensePerpetual,
				DisplayName: "Evil\u202etxt.exe\u200b\u2028", Description: "\u2066hidden\u2069\ufeff"})
		}
	}
	text, err := reservation.Sign(s.key, ac)
	if err != nil {
		t.Fatal(err)
	}
	s.do(t, time.Hour, `license smart reservation install "`+text+`"`)
	for _, cmd := range []string{"show license all", "show license status", "show license summary", "show license usage", "show license all --json"} {
		out := s.do(t, 2*time.Hour, cmd)
		if i := strings.IndexFunc(out, func(r rune) bool { return unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) }); i >= 0 {
			t.Errorf("%s prints %q raw:\n%s", cmd, []rune(out[i:])[0], out)
		}
		// The summary shows UUIDs, not names (REFERENCE §3).
		if !strings.Contains(out, `Evil\u202etxt.exe\u200b\u2028`) && cmd != "show license usage" && cmd != "show license summary" && !strings.HasSuffix(cmd, "--json") {
			t.Errorf("%s does not show the name escaped:\n%s", cmd, out)
		}
	}
}

// Issue 10.3 at install: a code issued more than a day ahead of the node's
// clock is refused; a PERPETUAL licence with lapsed dates is refused at
// install (it used to install, then show NOT AUTHORIZED); a refusal that
// quotes signed text shows invisible characters escaped.
func TestInstallRefusesWhatReportsWouldNotGrant(t *testing.T) {
	s := newSLRNode(t)
	s.do(t, 0, "license smart reservation enable")
	s.do(t, 0, "license smart reservation request")
	fail := func(text, want string) {
		t.Helper()
		out, res := run(s.at(t0, labUsage), `license smart reservation install "`+text+`"`)
		if res != Failed || !strings.Contains(out, want) {
			t.Fatalf("install:\n%s\nwant a failure saying %q", out, want)
		}
		if strings.ContainsFunc(out, func(r rune) bool { return unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) }) {
			t.Fatalf("the refusal prints invisible characters raw: %q", out)
		}
	}
	fail(s.code(t, t0.Add(25*time.Hour), enough, false), "more than 24 hours after this node's clock")

	sign := func(edit func(*reservation.Entitlement)) string {
		ac := &reservation.AuthCode{Flag: "A", Version: "C", PIID: "d8a3c5b2-1f4e-4c6a-9b7d-2e5f8a1c3b4d", Timestamp: t0, UDI: s.udi}
		for _, e := range cssmapi.Entitlements {
			if n, ok := enough[e.Tier]; ok {
				ent := reservation.Entitlement{Tag: e.Tag, Count: n, Type: reservation.LicensePerpetual, DisplayName: e.DisplayName}
				edit(&ent)
				ac.Entitlements = append(ac.Entitlements, ent)
			}
		}
		text, err := reservation.Sign(s.key, ac)
		if err != nil {
			t.Fatal(err)
		}
		return text
	}
	fail(sign(func(e *reservation.Entitlement) {
		e.Start, e.End = t0.AddDate(-1, 0, 0), t0.AddDate(0, 0, -2)
	}), "PERPETUAL license")
	// A code cut and pasted wrong: the refusal quotes the tag it was signed with.
	bidi := sign(func(e *reservation.Entitlement) {
		e.Start, e.End = t0.AddDate(0, 0, -3), t0.AddDate(0, 0, -2)
		e.Tag += "\u202e"
	})
	start, end := "<startDate>"+t0.AddDate(0, 0, -3).Format("2006-Jan-02")+" UTC</startDate>", "<endDate>"+t0.AddDate(0, 0, -2).Format("2006-Jan-02")+" UTC</endDate>"
	swapped := strings.Replace(bidi, start+end, strings.NewReplacer("endDate", "startDate").Replace(end)+strings.NewReplacer("startDate", "endDate").Replace(start), 1)
	if swapped == bidi {
		t.Fatal("the dates were not swapped")
	}
	fail(swapped, `ends before it starts`)
	fail(swapped, `\u202e`)
}

// The installed code is checked against trust/ as it is now: once its
// licensing server is no longer trusted, the code grants nothing.
func TestInstalledCodeNeedsItsKeyStillTrusted(t *testing.T) {
	s := newSLRNode(t)
	s.do(t, 0, "license smart reservation enable")
	s.do(t, 0, "license smart reservation request")
	s.do(t, time.Hour, `license smart reservation install "`+s.code(t, t0, enough, true)+`"`)
	if out := s.do(t, 2*time.Hour, "show license status"); !strings.Contains(out, "Status: AUTHORIZED - RESERVED") {
		t.Fatal(out)
	}
	if err := os.Remove(filepath.Join(statedir.Node(s.store.Dir()).Trust(), "cssm.pem")); err != nil {
		t.Fatal(err)
	}
	out := s.do(t, 2*time.Hour, "show license status")
	for _, want := range []string{"Status: NOT AUTHORIZED - RESERVED", "Failure reason: No licensing-server key is trusted", "Export-Controlled Functionality: Not Allowed"} {
		if !strings.Contains(out, want) {
			t.Errorf("show license status lacks %q:\n%s", want, out)
		}
	}
}

// ReservationInstall says itself whether it replaced an installed code,
// decided in the transaction that installs it: the handler no longer reads
// the report first, which a concurrent install could make wrong.
func TestReservationInstallSaysWhetherItUpdated(t *testing.T) {
	s := newSLRNode(t)
	s.do(t, 0, "license smart reservation enable")
	s.do(t, 0, "license smart reservation request")
	svc := s.at(t0.Add(time.Hour), labUsage).Service
	conf, updated, err := svc.ReservationInstall(s.code(t, t0, enough, false))
	if err != nil || updated || len(conf) != 8 {
		t.Fatalf("first install: %q updated=%v %v", conf, updated, err)
	}
	svc = s.at(t0.Add(2*time.Hour), labUsage).Service
	conf, updated, err = svc.ReservationInstall(s.code(t, t0.Add(time.Hour), enough, false))
	if err != nil || !updated || len(conf) != 8 {
		t.Fatalf("update: %q updated=%v %v", conf, updated, err)
	}
	conf, updated, err = svc.ReservationInstall(s.code(t, t0, enough, false)) // older: refused
	if err == nil || updated || conf != "" {
		t.Fatalf("refused code: %q updated=%v %v", conf, updated, err)
	}
}
