package commands

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/publisher"
)

// Fuzz targets of the command layer. .ci/robustness.sh runs each for a
// bounded time; a crasher found goes into testdata/fuzz/<target> (where
// `go test` finds it again) once it is fixed.

// The tokenizer never panics, and agrees with the simple rules it
// documents: outside quotes, words are split at space, tab, CR and LF;
// quotes group and are dropped; an odd quote count is refused.
func FuzzTokenize(f *testing.F) {
	for _, s := range []string{
		"show license all", `license smart reservation install "<a>b c</a>"`, "  help\t show \r\n",
		"\"a\r\nb\"", `"`, `a"b"c d`, "\x1b[A", "caf\u00e9 \u00a0x", "\xff", strings.Repeat("x ", 100),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		toks, err := Tokenize(line)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error without a sentence")
			}
			return
		}
		if OpenQuote(line) {
			t.Fatalf("%q tokenized although its quote is open", line)
		}
		for _, tk := range toks {
			if tk.Text == "" && !tk.Quoted {
				t.Fatalf("empty unquoted word in %q", line)
			}
			if strings.Contains(tk.Text, `"`) {
				t.Fatalf("word %q keeps a quote", tk.Text)
			}
			if !tk.Quoted && strings.ContainsAny(tk.Text, " \t\r\n") {
				t.Fatalf("unquoted word %q holds a separator", tk.Text)
			}
		}
		if !strings.Contains(line, `"`) {
			want := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' })
			var got []string
			for _, tk := range toks {
				got = append(got, tk.Text)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%q: words %q, want %q", line, got, want)
			}
		}
	})
}

// fuzzBaselines are the states FuzzExecuteOnStore runs each line against:
// a fresh node in evaluation mode, and one in reservation mode with a
// request code generated (so install, cancel and return are reachable).
var fuzzBaselines = [][]string{
	nil,
	{"license smart reservation enable", "license smart reservation request"},
}

// Any line on a real publisher: no panic (Execute turns one into "Internal
// error"), a failure says so on its last line and changes nothing on
// disk, no escape sequence is echoed, and completion copes with it too.
// Nothing leaves the machine: the direct transport is a closed local port,
// and a line that would fetch over SFTP from the reservation baseline is
// skipped (from the fresh one, install-file fails before connecting).
func FuzzExecuteOnStore(f *testing.F) {
	for _, s := range []string{
		"show license all", "show license tech support", "license smart reservation enable",
		"license smart reservation disable", "license smart reservation cancel", "license smart factory reset",
		"license smart transport ssm-satellite http://127.0.0.1:9/x", "license smart transport proxy p 8080",
		`license smart reservation install "<specificPLR><authorizationCode>`, `license smart reservation install "x"`,
		"license smart reservation return", "license smart export cancel", "license smart register idtoken x",
		"LICENSE SMART RESERVATION ENABLE", "license smart reservation return authorization \"a\"", "help license smart",
		"license smart reservation install-file sftp://127.0.0.1:9/code.txt", "show license ?", "quit",
	} {
		for b := range fuzzBaselines {
			f.Add(s, uint8(b))
		}
	}
	// One folder per baseline, made once per fuzzing process; each line
	// starts from the baseline's bytes.
	type base struct {
		n    *node
		data []byte
	}
	var bases []base
	for _, lines := range fuzzBaselines {
		n := newNode(f)
		r := n.at(t0, labUsage)
		for _, l := range append([]string{"show license status"}, lines...) {
			if out, res := run(r, l); res != OK {
				f.Fatalf("%s: %s", l, out)
			}
		}
		data, err := os.ReadFile(filepath.Join(n.store.Dir(), publisher.StateFile))
		if err != nil {
			f.Fatal(err)
		}
		bases = append(bases, base{n, data})
	}
	f.Fuzz(func(t *testing.T, line string, which uint8) {
		i := int(which) % len(bases)
		b := bases[i]
		r := (&node{t: t, store: b.n.store}).at(t0.Add(time.Minute), labUsage)
		if toks, err := Tokenize(line); err == nil && i == 1 {
			if n, _ := r.walk(toks); n.Path() == "license smart reservation install-file" {
				t.Skip("would connect to the host in the URL")
			}
		}
		path := filepath.Join(b.n.store.Dir(), publisher.StateFile)
		if err := os.WriteFile(path, b.data, 0o600); err != nil {
			t.Fatal(err)
		}
		term := &fakeTerm{}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res := r.Execute(ctx, term, line)
		out := term.String()
		if strings.Contains(out, "Internal error") {
			t.Fatalf("panic on %q:\n%s", line, out)
		}
		if strings.ContainsRune(out, '\x1b') {
			t.Fatalf("escape echoed: %q", out)
		}
		if res == Failed {
			if !strings.HasSuffix(out, msgFailed+"\n") {
				t.Fatalf("failure without the failure line: %q", out)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, b.data) {
				t.Fatalf("%q failed but changed the state:\n%s", line, after)
			}
		}
		r.Complete(line)
	})
}
