package sentence

import (
	"strings"
	"testing"
)

func TestShortCutsLongEchoesAtACharacter(t *testing.T) {
	long := strings.Repeat("a", 63) + "é" + "tail"
	for in, want := range map[string]string{
		"":                      "",
		"ABC-123":               "ABC-123",
		strings.Repeat("x", 64): strings.Repeat("x", 64),
		strings.Repeat("x", 65): strings.Repeat("x", 64) + "...",
		long:                    strings.Repeat("a", 63) + "...",
	} {
		if got := Short(in); got != want {
			t.Errorf("Short(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFirstLetterCase(t *testing.T) {
	if got := UpperFirst("the code is short"); got != "The code is short" {
		t.Errorf("UpperFirst = %q", got)
	}
	if got := LowerFirst("The code is short"); got != "the code is short" {
		t.Errorf("LowerFirst = %q", got)
	}
	if UpperFirst("") != "" || LowerFirst("") != "" || LowerFirst("éa") != "éa" {
		t.Error("empty or non-ASCII first letters must come back unchanged")
	}
}
