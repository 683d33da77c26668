package reservation

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// Shapes from REFERENCE.md §4.
var (
	requestCodeRE  = regexp.MustCompile(`^P:[A-Za-z0-9._-]+,S:[0-9a-f]{5},U:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	udiRE          = regexp.MustCompile(`^PID:[A-Za-z0-9._-]+,SN:[0-9a-f]{5},UUID:[0-9a-f]{32}$`)
	confirmationRE = regexp.MustCompile(`^[0-9a-f]{8}$`)
	returnCodeRE   = regexp.MustCompile(`^([A-Za-z0-9]{6}-){8}[A-Za-z0-9]{3}$`)
)

func TestUDIForms(t *testing.T) {
	if got, want := captureUDI.String(), "PID:UCM,SN:cc920,UUID:e53fc96802534d61a355ba908a6cc920"; got != want || !udiRE.MatchString(got) {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := RequestCode(captureUDI), "P:UCM,S:cc920,U:e53fc968-0253-4d61-a355-ba908a6cc920"; got != want || !requestCodeRE.MatchString(got) {
		t.Errorf("RequestCode() = %q, want %q", got, want)
	}
	// The UDI of the `show license` capture, from its UUID alone.
	u, err := NewUDI("UCM", "6FE83ADD-C802-40BC-92DC-071AC7A37624")
	if err != nil || u.String() != "PID:UCM,SN:37624,UUID:6fe83addc80240bc92dc071ac7a37624" {
		t.Errorf("NewUDI = %v, %v", u, err)
	}
	if _, err := NewUDI("UCM", "6fe83add"); err == nil {
		t.Error("NewUDI accepted a short UUID")
	}
}

func TestParseRequestCode(t *testing.T) {
	ok := []string{
		"P:UCM,S:cc920,U:e53fc968-0253-4d61-a355-ba908a6cc920",
		"P:UCM, S:cc920, U:e53fc968-0253-4d61-a355-ba908a6cc920",
		"P:UCM,   S:cc920,U:e53fc968-0253-4d61-a355-ba908a6cc920",
		"P:UCM,S:CC920,U:E53FC968-0253-4D61-A355-BA908A6CC920",
		"  P:UCM,S:cc920,U:e53fc968-0253-4d61-a355-ba908a6cc920\r\n",
		"P:UCM,S:cc920,U:e53fc968-02\r\n53-4d61-a355-ba908a6cc920",
	}
	for _, s := range ok {
		u, err := ParseRequestCode(s)
		if err != nil {
			t.Errorf("ParseRequestCode(%q): %v", s, err)
		} else if u != captureUDI {
			t.Errorf("ParseRequestCode(%q) = %+v, want %+v", s, u, captureUDI)
		}
	}

	bad := []struct{ in, want string }{
		{"", "The request code is empty: it looks like P:UCM,S:cc920,U:e53fc968-0253-4d61-a355-ba908a6cc920."},
		{"P:UCM,S:cc921,U:e53fc968-0253-4d61-a355-ba908a6cc920",
			`The request code has serial number "cc921", but the serial number must be the last five hex digits of the UUID (cc920).`},
		{"P:UCM,S:cc920,U:e53fc968-0253-4d61-a355-ba908a6cc92",
			`The request code has an invalid UUID "e53fc968-0253-4d61-a355-ba908a6cc92": it must be 32 hex digits in groups 8-4-4-4-12.`},
		{"P:UCM,S:cc920,U:e53fc96802534d61a355ba908a6cc920",
			`The request code has an invalid UUID "e53fc96802534d61a355ba908a6cc920": it must be 32 hex digits in groups 8-4-4-4-12.`},
		{"P:UCM,S:cc920,U:g53fc968-0253-4d61-a355-ba908a6cc920",
			`The request code has an invalid UUID "g53fc968-0253-4d61-a355-ba908a6cc920": it must be 32 hex digits in groups 8-4-4-4-12.`},
		{"P:U CM,S:cc920,U:e53fc968-0253-4d61-a355-ba908a6cc920", `The request code has an invalid product ID "U CM": use letters, digits, '.', '_' or '-'.`},
		{"P:UCM ,S:cc920,U:e53fc968-0253-4d61-a355-ba908a6cc920", `The request code has an invalid product ID "UCM ": use letters, digits, '.', '_' or '-'.`},
		{"PID:UCM,SN:cc920,UUID:e53fc96802534d61a355ba908a6cc920",
			`The request code "PID:UCM,SN:cc920,UUID:e53fc96802534d61a355ba908a6cc920" is not in the form P:UCM,S:cc920,U:e53fc968-0253-4d61-a355-ba908a6cc920.`},
		{"P:UCM;S:cc920;U:e53fc968-0253-4d61-a355-ba908a6cc920",
			`The request code "P:UCM;S:cc920;U:e53fc968-0253-4d61-a355-ba908a6cc920" is not in the form P:UCM,S:cc920,U:e53fc968-0253-4d61-a355-ba908a6cc920.`},
		{"P:UCM,S:cc920,U:e53fc968-0253-4d61-a355-ba908a6cc920,X:1",
			`The request code "P:UCM,S:cc920,U:e53fc968-0253-4d61-a355-ba908a6cc920,X:1" is not in the form P:UCM,S:cc920,U:e53fc968-0253-4d61-a355-ba908a6cc920.`},
		{strings.Repeat("P", 300), "The request code is too long (300 characters): check that only the code was pasted."},
	}
	for _, c := range bad {
		_, err := ParseRequestCode(c.in)
		if err == nil {
			t.Errorf("ParseRequestCode(%q) accepted", c.in)
			continue
		}
		wantKind(t, err, ErrBadFormat)
		if err.Error() != c.want {
			t.Errorf("ParseRequestCode(%q):\n got %s\nwant %s", c.in, err, c.want)
		}
	}
}

func TestParseUDI(t *testing.T) {
	u, err := ParseUDI("PID:UCM, SN:37624, UUID:6FE83ADDC80240BC92DC071AC7A37624")
	if err != nil || u != otherUDI {
		t.Errorf("ParseUDI = %+v, %v; want %+v", u, err, otherUDI)
	}
	if _, err := ParseUDI("PID:UCM,SN:37624,UUID:6fe83add-c802-40bc-92dc-071ac7a37624"); err == nil {
		t.Error("ParseUDI accepted a dashed UUID")
	}
}

func TestConfirmationCode(t *testing.T) {
	ac, err := ParseAuthCode(signed(t, captureUDI))
	if err != nil {
		t.Fatal(err)
	}
	code := ConfirmationCode(ac)
	if !confirmationRE.MatchString(code) {
		t.Fatalf("ConfirmationCode = %q, not 8 lowercase hex digits", code)
	}
	// The server recomputes it from the code it issued.
	again, _ := ParseAuthCode(ac.Render())
	if ConfirmationCode(again) != code {
		t.Error("ConfirmationCode is not deterministic")
	}
	for name, change := range map[string]func(*AuthCode){
		"other signature": func(a *AuthCode) { a.Signature = append([]byte{0}, a.Signature...) },
		"other node":      func(a *AuthCode) { a.UDI = otherUDI },
		"other time":      func(a *AuthCode) { a.Timestamp = a.Timestamp.Add(time.Millisecond) },
	} {
		b, _ := ParseAuthCode(ac.Render())
		change(b)
		if ConfirmationCode(b) == code {
			t.Errorf("%s: same confirmation code", name)
		}
	}
}

func TestReturnCode(t *testing.T) {
	ac, err := ParseAuthCode(signed(t, captureUDI))
	if err != nil {
		t.Fatal(err)
	}
	code := ReturnCode(ac)
	if len(code) != 59 || !returnCodeRE.MatchString(code) {
		t.Fatalf("ReturnCode = %q, not in the REFERENCE shape", code)
	}
	if !VerifyReturnCode(code, ac) || !VerifyReturnCode("  "+code+"\n", ac) {
		t.Error("VerifyReturnCode refused the node's own return code")
	}
	other, _ := ParseAuthCode(signed(t, captureUDI)) // same node, new signature
	for name, c := range map[string]string{
		"upper-cased":     strings.ToUpper(code),
		"one char off":    code[:10] + flip(code[10]) + code[11:],
		"another code's":  ReturnCode(other),
		"without dashes":  strings.ReplaceAll(code, "-", ""),
		"confirmation":    ConfirmationCode(ac),
		"empty":           "",
		"reference style": "ChWhde-okvz5f-ckFy8a-aSx4AK-Qf1iFZ-WXYaP1-wwDwmB-K5SEWq-rbr",
	} {
		if c == code {
			continue // e.g. upper-casing a code that happens to have no letters
		}
		if VerifyReturnCode(c, ac) {
			t.Errorf("%s: VerifyReturnCode accepted %q", name, c)
		}
	}
}

func TestParseReturnCode(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"ChWhde-okvz5f-ckFy8a-aSx4AK-Qf1iFZ-WXYaP1-wwDwmB-K5SEWq-rbr", "ChWhde-okvz5f-ckFy8a-aSx4AK-Qf1iFZ-WXYaP1-wwDwmB-K5SEWq-rbr", true},
		{" \tChWhde-okvz5f-ckFy8a-aSx4AK-Qf1iFZ-WXYaP1-wwDwmB-K5SEWq-rbr\r\n", "ChWhde-okvz5f-ckFy8a-aSx4AK-Qf1iFZ-WXYaP1-wwDwmB-K5SEWq-rbr", true},
		{"ChWhde-okvz5f-ckFy8a-aSx4AK-Qf1iFZ-WXYaP1-wwDwmB-K5SEWq-rb", "", false},
		{"ChWhde-okvz5f-ckFy8a-aSx4AK-Qf1iFZ-WXYaP1-wwDwmB-K5SEWqrrbr", "", false},
		{"ChWhde-okvz5f-ckFy8a-aSx4AK-Qf1iFZ-WXYaP1-wwDwmB-K5SEWq-rb_", "", false},
		{"ChWhde okvz5f ckFy8a aSx4AK Qf1iFZ WXYaP1 wwDwmB K5SEWq rbr", "", false},
	} {
		got, err := ParseReturnCode(c.in)
		if c.ok != (err == nil) || got != c.want {
			t.Errorf("ParseReturnCode(%q) = %q, %v", c.in, got, err)
		}
		if err != nil {
			wantKind(t, err, ErrBadFormat)
		}
	}
}
