package reservation

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The life of a code: the server signs it, the admin copies it out of a
// terminal that wrapped it, the node parses, verifies and checks it.
func TestAuthCodeRoundTrip(t *testing.T) {
	text := signed(t, captureUDI)
	keys := []*ecdsa.PublicKey{&serverKey().PublicKey}
	now := time.Date(2020, time.June, 1, 0, 0, 0, 0, time.UTC)

	pastes := []struct{ name, text string }{
		{"one line", text},
		{"wrapped at 80 with CRLF", wrap(text, 80, "\r\n")},
		{"wrapped at 79 with LF", wrap(text, 79, "\n")},
		{"wrapped at every character", wrap(text, 1, "\r\n")},
		{"quoted with spaces", `  "` + wrap(text, 80, "\r\n") + `"  `},
		{"trailing newline", text + "\r\n"},
	}
	for _, p := range pastes {
		t.Run(p.name, func(t *testing.T) {
			ac, err := ParseAuthCode(p.text)
			if err != nil {
				t.Fatalf("ParseAuthCode: %v", err)
			}
			if err := Verify(ac, keys); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if err := CheckFor(ac, captureUDI, time.Time{}, now); err != nil {
				t.Fatalf("CheckFor: %v", err)
			}
			if got := ac.Render(); got != text {
				t.Errorf("Render() differs from the signed text:\n got %s\nwant %s", got, text)
			}
			want := sampleCode(captureUDI)
			if !ac.Timestamp.Equal(want.Timestamp.Truncate(time.Millisecond)) || !ac.ExportAllowed ||
				ac.UDI != captureUDI || !reflect.DeepEqual(ac.Entitlements, want.Entitlements) {
				t.Errorf("parsed fields differ:\n got %+v\nwant %+v", ac, want)
			}
		})
	}
}

// The capture's own layout, checked literally so the format cannot drift.
func TestAuthCodeRenderLayout(t *testing.T) {
	ac := &AuthCode{
		Flag: "A", Version: "C", PIID: "0b4f3d1c-8e2a-4c6b-9f10-2a3b4c5d6e7f",
		Timestamp: time.UnixMilli(1583317800123),
		Entitlements: []Entitlement{{
			Tag: "regid.x", Count: 5, Type: LicenseTerm, DisplayName: "D", Description: "T",
			Start: time.Date(2020, 3, 4, 0, 0, 0, 0, time.UTC), End: time.Date(2021, 3, 3, 0, 0, 0, 0, time.UTC),
		}},
		Signature: []byte{1, 2, 3},
		UDI:       captureUDI,
	}
	want := "<specificPLR><authorizationCode><flag>A</flag><version>C</version>" +
		"<piid>0b4f3d1c-8e2a-4c6b-9f10-2a3b4c5d6e7f</piid><timestamp>1583317800123</timestamp>" +
		"<entitlements><entitlement><tag>regid.x</tag><count>5</count><startDate>2020-Mar-04 UTC</startDate>" +
		"<endDate>2021-Mar-03 UTC</endDate><licenseType>TERM</licenseType><displayName>D</displayName>" +
		"<tagDescription>T</tagDescription><subscriptionID></subscriptionID></entitlement></entitlements>" +
		"</authorizationCode><signature>AQID</signature>" +
		"<udi>P:UCM,S:cc920,U:e53fc968-0253-4d61-a355-ba908a6cc920</udi></specificPLR>"
	if got := ac.Render(); got != want {
		t.Errorf("Render():\n got %s\nwant %s", got, want)
	}
	ac.ExportAllowed = true
	if got := ac.Render(); !strings.Contains(got, "</entitlements><exportAllowed>true</exportAllowed></authorizationCode>") {
		t.Errorf("export permission not rendered inside the signed part: %s", got)
	}
}

// A server that writes the UDI with spaces and upper-case hex signs those
// bytes; the node must verify what was signed, not its canonical rewrite.
func TestVerifyUsesReceivedBytes(t *testing.T) {
	canon := sampleCode(captureUDI)
	var b strings.Builder
	canon.writeAuthorization(&b)
	auth := b.String()
	udi := "P:UCM, S:CC920,  U:E53FC968-0253-4D61-A355-BA908A6CC920"
	digest := sha256.Sum256([]byte(auth + udi))
	sig, err := ecdsa.SignASN1(rand.Reader, serverKey(), digest[:])
	if err != nil {
		t.Fatal(err)
	}
	text := "<specificPLR>" + auth + "<signature>" + base64.StdEncoding.EncodeToString(sig) +
		"</signature><udi>" + udi + "</udi></specificPLR>"

	ac, err := ParseAuthCode(wrap(text, 80, "\r\n"))
	if err != nil {
		t.Fatalf("ParseAuthCode: %v", err)
	}
	if ac.UDI != captureUDI {
		t.Errorf("UDI = %+v, want canonical %+v", ac.UDI, captureUDI)
	}
	if got := string(ac.SignedBytes()); got != auth+udi {
		t.Errorf("SignedBytes() = %q, want the received bytes", got)
	}
	if err := Verify(ac, []*ecdsa.PublicKey{&serverKey().PublicKey}); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if err := CheckFor(ac, captureUDI, time.Time{}, issued); err != nil {
		t.Errorf("CheckFor: %v", err)
	}
}

// Every way a code can be wrong, and the kind of error each must give.
func TestAuthCodeRejected(t *testing.T) {
	good := signed(t, captureUDI)
	other := signed(t, otherUDI)
	goodAC, err := ParseAuthCode(good)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, _ := GenerateKey()
	trusted := []*ecdsa.PublicKey{&serverKey().PublicKey}
	inTerm := time.Date(2020, time.June, 1, 0, 0, 0, 0, time.UTC)

	sigAt := strings.Index(good, "<signature>") + len("<signature>")
	flipSig := good[:sigAt+10] + flip(good[sigAt+10]) + good[sigAt+11:]

	cases := []struct {
		name    string
		text    string
		keys    []*ecdsa.PublicKey
		last    time.Time
		now     time.Time
		kind    error
		message string // a part of the sentence the user sees
	}{
		{name: "tampered signature", text: flipSig, kind: ErrBadSignature, message: "signature does not match"},
		{name: "tampered count", text: strings.Replace(good, "<count>5</count>", "<count>6</count>", 1), kind: ErrBadSignature},
		{name: "export permission removed", text: strings.Replace(good, "<exportAllowed>true</exportAllowed>", "", 1), kind: ErrBadSignature},
		{name: "untrusted server", text: good, keys: []*ecdsa.PublicKey{&otherKey.PublicKey}, kind: ErrBadSignature},
		{name: "no trusted key", text: good, keys: []*ecdsa.PublicKey{}, kind: ErrNoTrustedKeys, message: "trust directory"},
		{name: "code for another node", text: other, kind: ErrWrongUDI,
			message: "does not match the Reservation Request Code: the code is for P:UCM,S:37624,U:6fe83add-c802-40bc-92dc-071ac7a37624 but this node's request code is P:UCM,S:cc920,U:e53fc968-0253-4d61-a355-ba908a6cc920"},
		{name: "same code installed again", text: good, last: goodAC.Timestamp, kind: ErrStale, message: "not newer"},
		{name: "older code", text: good, last: goodAC.Timestamp.Add(time.Hour), kind: ErrStale},
		{name: "term license expired", text: good, now: termEnd.AddDate(0, 0, 1), kind: ErrExpired, message: `TERM license "UC Manager CUWL License (12.X)" expired on 2021-Mar-03 UTC`},
		{name: "term license not started", text: good, now: issued.AddDate(0, 0, -1), kind: ErrExpired, message: "not valid yet"},
		{name: "doctype", text: `<!DOCTYPE specificPLR [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` + good, kind: ErrBadFormat, message: "declarations"},
		{name: "entity reference", text: strings.Replace(good, "<displayName>UC", "<displayName>&xxe;UC", 1), kind: ErrBadFormat, message: "entities"},
		{name: "escaped ampersand", text: strings.Replace(good, "<tagDescription>UC", "<tagDescription>&amp;UC", 1), kind: ErrBadFormat, message: "entities"},
		{name: "processing instruction", text: `<?xml version="1.0"?>` + good, kind: ErrBadFormat},
		{name: "comment", text: strings.Replace(good, "<flag>", "<!-- x --><flag>", 1), kind: ErrBadFormat},
		{name: "CDATA", text: strings.Replace(good, "<flag>A", "<flag><![CDATA[A]]>", 1), kind: ErrBadFormat},
		{name: "1 MiB code", text: strings.Repeat("A", 1<<20), kind: ErrBadFormat, message: "too long"},
		{name: "just over the limit", text: strings.Replace(good, "<displayName>UC", "<displayName>"+strings.Repeat("x", MaxAuthCodeSize), 1), kind: ErrBadFormat, message: "too long"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			keys := c.keys
			if keys == nil {
				keys = trusted
			}
			now := c.now
			if now.IsZero() {
				now = inTerm
			}
			err := install(c.text, keys, c.last, now)
			wantKind(t, err, c.kind)
			if !strings.Contains(err.Error(), c.message) {
				t.Errorf("error %q does not say %q", err, c.message)
			}
		})
	}
}

// install runs the node's three steps, as `reservation install` does.
func install(text string, keys []*ecdsa.PublicKey, last, now time.Time) error {
	ac, err := ParseAuthCode(text)
	if err != nil {
		return err
	}
	if err := Verify(ac, keys); err != nil {
		return err
	}
	return CheckFor(ac, captureUDI, last, now)
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

// A terminal or clipboard can cut a code anywhere: every prefix must be
// refused with a format error, never a panic or a success.
func TestAuthCodeEveryPrefixRejected(t *testing.T) {
	good := signed(t, captureUDI)
	for n := 0; n < len(good); n++ {
		_, err := ParseAuthCode(good[:n])
		if !errors.Is(err, ErrBadFormat) {
			t.Fatalf("prefix of %d bytes: error = %v, want a format error", n, err)
		}
	}
}

// The exact sentences for the common mistakes.
func TestAuthCodeMessages(t *testing.T) {
	good := signed(t, captureUDI)
	sigEnd := strings.Index(good, "</signature>")
	ent := strings.Index(good, "<entitlement>")
	entEnd := strings.Index(good, "</entitlement>") + len("</entitlement>")
	firstEnt := good[ent:entEnd]
	cases := []struct{ name, text, want string }{
		{"empty", "  ", "The authorization code is empty: paste the whole code between double quotes."},
		{"cut in the signature", good[:sigEnd-4], "The authorization code is truncated: </signature> is missing."},
		{"cut before the signature", good[:strings.Index(good, "<signature>")], "The authorization code is truncated: <signature> is missing."},
		{"cut inside a tag", good[:strings.Index(good, "<udi>")+3], "The authorization code is truncated: <udi> is missing."},
		{"cut inside an entitlement tag", good[:ent+5], "The authorization code is truncated: <entitlement> is missing."},
		{"cut inside the export tag", good[:strings.Index(good, "<exportAllowed>")+4], "The authorization code is truncated: <exportAllowed> is missing."},
		{"cut after the entitlements", good[:strings.Index(good, "<exportAllowed>")], "The authorization code is truncated: </authorizationCode> is missing."},
		{"attribute", strings.Replace(good, "<flag>", `<flag x="1">`, 1), "The authorization code is malformed: <flag> was expected at character 33."},
		{"space between elements", strings.Replace(good, "</flag><version>", "</flag> <version>", 1), "The authorization code is malformed: <version> was expected at character 47."},
		{"trailing text", good + "x", "The authorization code is malformed: unexpected text after </specificPLR> at character " + strconv.Itoa(len(good)+1) + "."},
		{"negative count", strings.Replace(good, "<count>5<", "<count>-1<", 1), "The authorization code is malformed: <count> must be a whole number from 0 to 1000000."},
		{"leading zero count", strings.Replace(good, "<count>5<", "<count>05<", 1), "The authorization code is malformed: <count> must be a whole number from 0 to 1000000."},
		{"huge count", strings.Replace(good, "<count>5<", "<count>1000001<", 1), "The authorization code is malformed: <count> must be a whole number from 0 to 1000000."},
		{"unknown license type", strings.Replace(good, "PERPETUAL", "FOREVER", 1), "The authorization code is malformed: <licenseType> must be PERPETUAL or TERM."},
		{"bad date", strings.Replace(good, "2020-Mar-04 UTC", "2020-03-04", 1), "The authorization code is malformed: <startDate> is not a date like 2020-Mar-04 UTC."},
		{"term without end", strings.Replace(good, "<endDate>2021-Mar-03 UTC</endDate>", "<endDate></endDate>", 1),
			"The authorization code's TERM entitlement regid.2017-02.com.cisco.UCM_CUWL,12.0_cc59375a-1cd8-4b36-8366-6f4d2abba965 needs both a start and an end date."},
		{"duplicate entitlement", strings.Replace(good, firstEnt, firstEnt+firstEnt, 1),
			"The authorization code lists entitlement regid.2016-07.com.cisco.UCM_Enhanced,12.0_66d0d1cf-4863-4761-91d0-d01d3eb1949a twice."},
		{"too many entitlements", strings.Replace(good, firstEnt, manyEntitlements(firstEnt, MaxEntitlements+1), 1),
			"The authorization code lists more than 64 entitlements, which is more than a node can hold."},
		{"export maybe", strings.Replace(good, ">true<", ">maybe<", 1), "The authorization code is malformed: <exportAllowed> must be true or false."},
		{"bad base64", strings.Replace(good, "<signature>", "<signature>*", 1), "The authorization code is malformed: <signature> is not valid base64."},
		{"empty signature", good[:strings.Index(good, "<signature>")] + "<signature></signature>" + good[sigEnd+len("</signature>"):], "The authorization code has an empty signature: paste the whole code again."},
		{"bad piid", strings.Replace(good, "<piid>0b4f3d1c-", "<piid>0b4f3d1c", 1), "The authorization code is malformed: <piid> is not a UUID in groups 8-4-4-4-12."},
		{"control character", strings.Replace(good, "<displayName>UC", "<displayName>\tUC", 1), "The authorization code is malformed: <displayName> contains a control character."},
		{"wrong serial in udi", strings.Replace(good, "S:cc920", "S:cc921", 1),
			"The authorization code's <udi> is not valid: the request code has serial number \"cc921\", but the serial number must be the last five hex digits of the UUID (cc920)."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseAuthCode(c.text)
			if err == nil {
				t.Fatal("accepted")
			}
			wantKind(t, err, ErrBadFormat)
			if err.Error() != c.want {
				t.Errorf("error:\n got %s\nwant %s", err, c.want)
			}
		})
	}
}

func manyEntitlements(one string, n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.Replace(one, "<tag>regid", "<tag>"+strconv.Itoa(i)+"regid", 1))
	}
	return b.String()
}

// Changing a parsed code's fields must not keep the old signature valid.
func TestVerifyAfterFieldChange(t *testing.T) {
	ac, err := ParseAuthCode(signed(t, captureUDI))
	if err != nil {
		t.Fatal(err)
	}
	ac.Entitlements[0].Count = 500
	wantKind(t, Verify(ac, []*ecdsa.PublicKey{&serverKey().PublicKey}), ErrBadSignature)
}

// Sign checks fields so that it never issues a code the node would refuse.
func TestSignRejectsInvalidFields(t *testing.T) {
	cases := []struct {
		name   string
		change func(*AuthCode)
	}{
		{"count too large", func(ac *AuthCode) { ac.Entitlements[0].Count = MaxCount + 1 }},
		{"negative count", func(ac *AuthCode) { ac.Entitlements[0].Count = -1 }},
		{"bad UDI", func(ac *AuthCode) { ac.UDI.SN = "00000" }},
		{"ampersand in name", func(ac *AuthCode) { ac.Entitlements[0].DisplayName = "A & B" }},
		{"tag in description", func(ac *AuthCode) { ac.Entitlements[0].Description = "<b>" }},
		{"term without dates", func(ac *AuthCode) { ac.Entitlements[2].End = time.Time{} }},
		{"upper-case PIID", func(ac *AuthCode) { ac.PIID = strings.ToUpper(ac.PIID) }},
		{"empty flag", func(ac *AuthCode) { ac.Flag = "" }},
		{"before 1970", func(ac *AuthCode) { ac.Timestamp = time.Unix(-1, 0) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ac := sampleCode(captureUDI)
			c.change(ac)
			_, err := Sign(serverKey(), ac)
			wantKind(t, err, ErrBadFormat)
			if !strings.HasPrefix(err.Error(), "The authorization code cannot be signed: ") {
				t.Errorf("error %q", err)
			}
			if ac.Signature != nil {
				t.Error("Sign set a signature on a refused code")
			}
		})
	}
}

// A term licence is good through the whole of its end day, UTC.
func TestTermBoundaries(t *testing.T) {
	ac, err := ParseAuthCode(signed(t, captureUDI))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2020, time.March, 4, 0, 0, 0, 0, time.UTC)
	lapse := termEnd.AddDate(0, 0, 1)
	for _, c := range []struct {
		now time.Time
		ok  bool
	}{
		{start.Add(-time.Nanosecond), false},
		{start, true},
		{lapse.Add(-time.Nanosecond), true},
		{lapse, false},
	} {
		err := CheckFor(ac, captureUDI, time.Time{}, c.now)
		if (err == nil) != c.ok {
			t.Errorf("at %s: error = %v, want ok=%v", c.now, err, c.ok)
		}
	}
}

// The node's own UDI may come in any case; only the identity matters.
func TestCheckForCanonicalisesNodeUDI(t *testing.T) {
	ac, err := ParseAuthCode(signed(t, captureUDI))
	if err != nil {
		t.Fatal(err)
	}
	upper := UDI{PID: "UCM", SN: "CC920", UUID: strings.ToUpper(captureUDI.UUID)}
	if err := CheckFor(ac, upper, time.Time{}, issued); err != nil {
		t.Errorf("CheckFor: %v", err)
	}
}

func BenchmarkParseAndVerifyAuthCode(b *testing.B) {
	text := wrap(signed(b, captureUDI), 80, "\r\n")
	keys := []*ecdsa.PublicKey{&serverKey().PublicKey}
	b.ReportAllocs()
	for b.Loop() {
		ac, err := ParseAuthCode(text)
		if err != nil {
			b.Fatal(err)
		}
		if err := Verify(ac, keys); err != nil {
			b.Fatal(err)
		}
	}
}
