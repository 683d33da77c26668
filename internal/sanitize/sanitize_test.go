package sanitize

import (
	"encoding/json"
	"testing"
)

func TestTextEscapesWhatSteersATerminal(t *testing.T) {
	for in, want := range map[string]string{
		"BU Production Test":      "BU Production Test",
		"Zürich 東京":               "Zürich 東京",
		"\x1b]0;pwned\x07":        `\x1b]0;pwned\a`,
		"ok\r\nadmin:":            `ok\r\nadmin:`,
		"\x1b[2J":                 `\x1b[2J`,
		"evil\u202etxt.exe":       `evil\u202etxt.exe`,
		"zero\u200bwidth":         `zero\u200bwidth`,
		"c1\u009b31m":             `c1\u009b31m`,
		string([]byte{0xff, 'a'}): `\ufffda`,
		"tab\there":               `tab\there`,
	} {
		if got := Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzText(f *testing.F) {
	f.Add("\x1b[31mred\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		out := Text(s)
		for _, r := range out {
			if Unsafe(r) {
				t.Fatalf("Text(%q) = %q keeps %U", s, out, r)
			}
		}
		if Text(out) != out {
			t.Fatalf("Text is not idempotent on %q", out)
		}
	})
}

func TestJSONEscapesWhatEncodingJSONLeavesRaw(t *testing.T) {
	in := map[string]string{"account": "evil\u202etxt\u200b \U000E0041 Zürich"}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	got := JSON(data)
	if want := `{"account":"evil\u202etxt\u200b \udb40\udc41 Zürich"}`; string(got) != want {
		t.Fatalf("JSON = %s, want %s", got, want)
	}
	var back map[string]string
	if err := json.Unmarshal(got, &back); err != nil || back["account"] != in["account"] {
		t.Fatalf("round trip: %q, %v", back, err)
	}
	if plain := []byte(`{"a":"b"}`); &JSON(plain)[0] != &plain[0] {
		t.Error("clean JSON was copied")
	}
}
