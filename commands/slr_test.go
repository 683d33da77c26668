package commands

import (
	"crypto/ecdsa"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/cryptotest"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
	"github.com/ucmsh/ucmsh/golden"
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
	fail(6*time.Hour, `license smart reservation install "`+newer+`"`, "is not newer than the one last installed")
}
