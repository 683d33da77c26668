package reservation

import (
	"crypto/ecdsa"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Whatever is pasted: no panic, every error is a format error, and a code
// that parses renders to text that parses to the same code. A CR/LF pair
// inserted anywhere must not change the outcome (terminal wrapping).
func FuzzParseAuthCode(f *testing.F) {
	good := signed(f, captureUDI)
	f.Add(good, uint(80))
	f.Add(wrap(good, 80, "\r\n"), uint(0))
	f.Add(`"`+good+`"`, uint(7))
	f.Add(strings.Replace(good, "<exportAllowed>true</exportAllowed>", "", 1), uint(300))
	f.Add(strings.Replace(good, "<displayName>UC", "<displayName>&amp;UC", 1), uint(1))
	f.Add(`<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>`+good, uint(2))
	f.Add(good[:len(good)/2], uint(5))
	f.Add("<specificPLR><authorizationCode><flag>A</flag><version>C</version><piid>0b4f3d1c-8e2a-4c6b-9f10-2a3b4c5d6e7f</piid>"+
		"<timestamp>0</timestamp><entitlements></entitlements></authorizationCode><signature>AA==</signature>"+
		"<udi>P:UCM,S:cc920,U:e53fc968-0253-4d61-a355-ba908a6cc920</udi></specificPLR>", uint(40))
	keys := []*ecdsa.PublicKey{&serverKey().PublicKey}

	f.Fuzz(func(t *testing.T, s string, cut uint) {
		ac, err := ParseAuthCode(s)
		at := int(cut % uint(len(s)+1))
		wrapped, werr := ParseAuthCode(s[:at] + "\r\n" + s[at:])
		if (err == nil) != (werr == nil) {
			t.Fatalf("a CR/LF at %d changed the outcome: %v vs %v", at, err, werr)
		}
		if err != nil {
			if !errors.Is(err, ErrBadFormat) || err.Error() == "" {
				t.Fatalf("error %v is not a format error", err)
			}
			return
		}
		if string(wrapped.SignedBytes()) != string(ac.SignedBytes()) {
			t.Fatal("a CR/LF changed the signed bytes")
		}
		text := ac.Render()
		again, err := ParseAuthCode(text)
		if err != nil {
			t.Fatalf("rendered code does not parse: %v\n%s", err, text)
		}
		if again.Render() != text {
			t.Fatalf("render is not stable:\n%s\n%s", text, again.Render())
		}
		if !reflect.DeepEqual(again.Entitlements, ac.Entitlements) || again.UDI != ac.UDI ||
			!again.Timestamp.Equal(ac.Timestamp) || again.ExportAllowed != ac.ExportAllowed {
			t.Fatal("fields changed across render and parse")
		}
		if ConfirmationCode(again) != ConfirmationCode(ac) || !VerifyReturnCode(ReturnCode(ac), again) {
			t.Fatal("derived codes changed across render and parse")
		}
		_ = Verify(ac, keys)
	})
}

// A request code that parses is canonical and round-trips in both forms.
func FuzzParseRequestCode(f *testing.F) {
	for _, s := range []string{
		"P:UCM,S:cc920,U:e53fc968-0253-4d61-a355-ba908a6cc920",
		"P:UCM, S:CC920, U:E53FC968-0253-4D61-A355-BA908A6CC920",
		"P:UCM,S:cc921,U:e53fc968-0253-4d61-a355-ba908a6cc920",
		"P:,S:,U:",
		"P:UCM,S:cc920,U:e53fc968-0253-4d61-a355-ba908a6cc920,",
		"PID:UCM,SN:37624,UUID:6fe83addc80240bc92dc071ac7a37624",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, parse := range []func(string) (UDI, error){ParseRequestCode, ParseUDI} {
			u, err := parse(s)
			if err != nil {
				if !errors.Is(err, ErrBadFormat) {
					t.Fatalf("error %v is not a format error", err)
				}
				continue
			}
			if !u.valid() {
				t.Fatalf("parsed UDI %+v is not valid", u)
			}
			if r, err := ParseRequestCode(RequestCode(u)); err != nil || r != u {
				t.Fatalf("RequestCode(%+v) = %q does not parse back: %+v, %v", u, RequestCode(u), r, err)
			}
			if r, err := ParseUDI(u.String()); err != nil || r != u {
				t.Fatalf("String() %q does not parse back: %+v, %v", u.String(), r, err)
			}
		}
	})
}

func FuzzParseReturnCode(f *testing.F) {
	f.Add("ChWhde-okvz5f-ckFy8a-aSx4AK-Qf1iFZ-WXYaP1-wwDwmB-K5SEWq-rbr")
	f.Add(" ChWhde-okvz5f-ckFy8a-aSx4AK-Qf1iFZ-WXYaP1-wwDwmB-K5SEWq-rbr\n")
	f.Add("ChWhde-okvz5f-ckFy8a-aSx4AK-Qf1iFZ-WXYaP1-wwDwmB-K5SEWq-rb")
	f.Add("ChWhde-okvz5f-ckFy8a-aSx4AK-Qf1iFZ-WXYaP1-wwDwmB-K5SEWq-rb\u00e9")
	f.Fuzz(func(t *testing.T, s string) {
		code, err := ParseReturnCode(s)
		if err != nil {
			if !errors.Is(err, ErrBadFormat) {
				t.Fatalf("error %v is not a format error", err)
			}
			return
		}
		if !returnCodeRE.MatchString(code) {
			t.Fatalf("accepted %q, which is not in the REFERENCE shape", code)
		}
		if again, err := ParseReturnCode(code); err != nil || again != code {
			t.Fatalf("%q does not parse back: %q, %v", code, again, err)
		}
	})
}
