package commands

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ucmsh/ucmsh/golden"
	"github.com/ucmsh/ucmsh/internal/clock"
)

// Every command of REFERENCE §2 and the platform commands is in the table.
func TestTreeHasEveryReferenceCommand(t *testing.T) {
	r := NewRunner(Publisher, testProfile(t, nil), nil)
	for _, line := range []string{
		"license smart register idtoken TOKEN", "license smart register idtoken TOKEN force",
		"license smart deregister", "license smart renew auth", "license smart renew ID",
		"license smart transport direct", "license smart transport proxy proxy.example.com 3128",
		"license smart transport ssm-satellite https://sat.example.com/x", "license smart factory reset",
		"license smart reservation enable", "license smart reservation disable",
		"license smart reservation request", "license smart reservation cancel",
		`license smart reservation install "<specificPLR>x</specificPLR>"`,
		"license smart reservation install-file sftp://192.0.2.5:22/code.txt",
		"license smart reservation return",
		`license smart reservation return-authorization "code"`,
		`license smart reservation return authorization "code"`,
		"license smart export request local CUCM_Export_Restricted_Authorization_Key",
		"license smart export return local CUCM_Export_Restricted_Authorization_Key",
		"license smart export cancel",
		"show license all", "show license status", "show license summary", "show license usage",
		"show license UDI", "show license udi", "show license tech support", "show license trace",
		"show myself", "show version active", "show network cluster", "set cli pagination on",
		"set cli pagination off", "show cli pagination", "help", "help show license", "quit",
	} {
		toks, err := Tokenize(line)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if _, err := r.resolve(toks); err != nil {
			t.Errorf("%s does not resolve: %v", line, err)
		}
	}
}

// The table is complete: every command has help, detail and an example
// that itself resolves; siblings never share a word.
func TestTreeIsWellFormed(t *testing.T) {
	r := NewRunner(Publisher, testProfile(t, nil), nil)
	Tree.Walk(func(n *Command) {
		if n.Help == "" {
			t.Errorf("%q has no help", n.Path())
		}
		seen := map[string]bool{}
		for _, c := range n.Sub {
			w := strings.ToLower(c.Word)
			if seen[w] {
				t.Errorf("%q has two sub-commands %q", n.Path(), w)
			}
			seen[w] = true
		}
		if n.Run == nil {
			if len(n.Sub) == 0 {
				t.Errorf("%q can neither run nor continue", n.Path())
			}
			return
		}
		if n.Detail == "" || n.Example == "" {
			t.Errorf("%q lacks detailed help or an example", n.Path())
		}
		toks, err := Tokenize(n.Example)
		if err == nil {
			var call *Call
			call, err = r.resolve(toks)
			if err == nil && call.Command != n {
				t.Errorf("the example of %q runs %q", n.Path(), call.Command.Path())
			}
		}
		if err != nil {
			t.Errorf("the example of %q is not valid: %v", n.Path(), err)
		}
	})
}

// Syntax help, detailed help and the platform commands read as on CUCM.
func TestHelpAndPlatformTranscript(t *testing.T) {
	r := newNode(t).at(t0, labUsage)
	golden.Check(t, "cli/help_and_platform", transcript(r,
		"license smart register idtoken ?",
		"license smart register idtoken abc ?",
		"license smart reservation install ?",
		"license smart ?",
		"show license ?",
		"?",
		"help license smart reservation install",
		"help license smart",
		"help",
		"show myself",
		"show version active",
		"show network cluster",
		"show cli pagination",
		"set cli pagination off",
		"show cli pagination",
		"set cli pagination on",
		"SHOW LICENSE UDI",
		"license smart export cancel",
		"license smart reservation enable",
	))
}

// Bad input gets one line saying why, then the failure line, and never
// changes state or echoes control characters.
func TestBadInput(t *testing.T) {
	n := newNode(t)
	r := n.at(t0, labUsage)
	if err := r.Service.Init(); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(n.store.Dir(), "state.json")
	before, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, line, want string }{
		{"unknown command", "shwo license all", `No valid command entered: "sh…" is not a command.`},
		{"unknown word", "show license everything", `No valid command entered: the word after "show license" is not valid there.`},
		{"incomplete", "license smart", `Incomplete command: "license smart" must be followed by one of: register* deregister renew* transport* factory* reservation* export*`},
		{"missing argument", "license smart register idtoken", "Missing argument: license smart register idtoken needs <token>."},
		{"extra argument", "show license all now", `Too many arguments: show license all takes no arguments.`},
		{"wrong literal", "license smart register idtoken abc forced", `Too many arguments: more words than license smart register idtoken takes.`},
		{"unbalanced quotes", `license smart reservation install "<specificPLR>`, "Unbalanced quotes"},
		{"one MiB line", "show license " + strings.Repeat("a", 1<<20), "The command is too long"},
		{"ANSI escape", "show license \x1b[31mall", `control character '\x1b'`},
		{"bell", "show\a license all", `control character '\a'`},
		{"C1 control", "show license all\u009b", `control character '\u009b'`},
		{"not UTF-8", "show license \xff", "not valid UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, res := run(r, tc.line)
			if res != Failed {
				t.Fatalf("outcome %v, want Failed", res)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if len(lines) != 2 || lines[1] != msgFailed || !strings.Contains(lines[0], tc.want) {
				t.Fatalf("output:\n%s\nwant one line containing %q, then %q", out, tc.want, msgFailed)
			}
			if bytes.ContainsAny([]byte(out), "\x1b\a\u009b") {
				t.Fatalf("raw control characters echoed: %q", out)
			}
			if len(out) > 1000 {
				t.Fatalf("the error repeats the input: %d bytes", len(out))
			}
		})
	}
	after, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("bad input changed the state")
	}
}

// A code pasted into a terminal wraps; the line breaks inside quotes go.
func TestQuotedCodeSpansLines(t *testing.T) {
	toks, err := Tokenize("license smart reservation install \"<specificPLR><authorizationCo\r\nde><flag>A</flag>\n</specificPLR>\"")
	if err != nil {
		t.Fatal(err)
	}
	want := "<specificPLR><authorizationCode><flag>A</flag></specificPLR>"
	if len(toks) != 5 || toks[4].Text != want || !toks[4].Quoted {
		t.Fatalf("tokens %+v", toks)
	}
	if !OpenQuote(`license smart reservation install "<spec`) || OpenQuote(`x "a" "b"`) {
		t.Fatal("OpenQuote is wrong")
	}
}

func TestCompletion(t *testing.T) {
	r := NewRunner(Publisher, testProfile(t, nil), nil)
	for _, tc := range []struct{ line, partial, want string }{
		{"", "", "help license* quit set* show* utils*"},
		{"sh", "sh", "show*"},
		{"show license u", "u", "usage UDI"},
		{"SHOW LICENSE ud", "ud", "UDI"},
		{"license smart ", "", "register* deregister renew* transport* factory* reservation* export*"},
		{"license smart reservation ret", "ret", "return return-authorization"},
		{"license smart reservation return ", "", ""}, // the alias is hidden
		{"show license all ", "", ""},
		{"nonsense ", "", ""},
		{`license smart reservation install "<spec`, "", ""},
	} {
		partial, cands := r.Complete(tc.line)
		var labels []string
		for _, c := range cands {
			labels = append(labels, c.Label)
		}
		if partial != tc.partial || strings.Join(labels, " ") != tc.want {
			t.Errorf("Complete(%q) = %q, %q; want %q, %q", tc.line, partial, labels, tc.partial, tc.want)
		}
	}
}

// The tokenizer and the resolver never panic, and a command that fails to
// parse never runs.
func FuzzExecute(f *testing.F) {
	for _, s := range []string{"show license all", `license smart reservation install "a b`, "help license ?",
		"license smart register idtoken x force", "\x1b[A", "set cli pagination off", "show license tech support ?",
		"--json show license UDI", "show license all --json", `help "--json"`, "-- ?", "help all"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r := NewRunner(Subscriber, testProfile(t, nil), nil)
		r.Clock = clock.Fixed(t0) // utils service list does not wait
		out, res := run(r, line)
		if res == Failed && !strings.HasSuffix(out, msgFailed+"\n") {
			t.Fatalf("failure without the failure line: %q", out)
		}
		if strings.ContainsRune(out, '\x1b') {
			t.Fatalf("escape echoed: %q", out)
		}
	})
}

// Every handler reads only the arguments its command declares: each
// runnable command runs its own example (and its example with every
// optional word given) on a fresh node, and an undeclared argument would
// panic into an internal error. Questions get no answer, and the network is
// a closed port, so nothing waits.
func TestHandlersReadDeclaredArgs(t *testing.T) {
	n := newNode(t)
	Tree.Walk(func(c *Command) {
		if c.Run == nil {
			return
		}
		lines := []string{c.Example}
		extra := c.Example
		for _, a := range c.Args {
			if a.Optional && a.Literal {
				extra += " " + a.Name
			}
		}
		lines = append(lines, extra)
		for _, line := range lines {
			out, _ := run(n.at(t0, labUsage), line)
			if strings.Contains(out, "Internal error") {
				t.Errorf("%s: %s", line, out)
			}
		}
	})
	// The check itself: a handler reading another command's argument.
	r := n.at(t0, labUsage)
	toks, _ := Tokenize("license smart deregister")
	call, err := r.resolve(toks)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if p := recover(); p == nil || !strings.Contains(fmt.Sprint(p), `"token"`) {
			t.Errorf("reading an undeclared argument: %v", p)
		}
	}()
	call.Value(argToken)
}

// The audit hook hears of every command that may change the licensing
// state, by its words alone (a token or code never reaches a log).
func TestAuditNamesStateChanges(t *testing.T) {
	r := newNode(t).at(t0, labUsage)
	var got []string
	r.Audit = func(path string, ok bool) { got = append(got, fmt.Sprintf("%s %v", path, ok)) }
	for _, line := range []string{
		"license smart reservation enable",
		`LICENSE Smart register idtoken "abc def"`,
		"license smart", "show license status", "license smart bogus", `license "smart" register`,
		"show myself", "license smart reservation disable",
	} {
		run(r, line)
	}
	want := "license smart reservation enable true|license smart register idtoken false|license smart reservation disable true"
	if strings.Join(got, "|") != want {
		t.Errorf("audited %q\nwant     %q", got, want)
	}
}

// A line that is not a command is never printed back whole: a script that
// runs ahead of a question it expected feeds the password as a command,
// and neither the error nor the transcript shows it.
func TestUnknownLineIsNotEchoed(t *testing.T) {
	r := NewRunner(Subscriber, testProfile(t, nil), nil)
	for _, secret := range []string{"s3cret!Pass", "hunter2", "correct horse battery staple", "ab"} {
		out := transcript(r, secret)
		for _, w := range strings.Fields(secret) {
			if len(w) > 1 && strings.Contains(out, w) {
				t.Errorf("%q is printed back: %q", w, out)
			}
		}
		if !strings.Contains(out, msgFailed) {
			t.Errorf("%q did not fail: %q", secret, out)
		}
	}
}

// help all lists the whole tree: every command offered, by its syntax.
func TestHelpAllListsTheTree(t *testing.T) {
	r := NewRunner(Publisher, testProfile(t, nil), nil)
	out, res := run(r, "help all")
	if res != OK {
		t.Fatal(out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")[1:]
	var want []string
	Tree.Walk(func(c *Command) {
		hidden := false
		for p := c; p != nil; p = p.parent {
			hidden = hidden || p.Hidden
		}
		if c.Run != nil && !hidden {
			want = append(want, c.Syntax())
		}
	})
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("help all:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
	}
	if !slices.Contains(lines, "license smart register idtoken <token> [force]") || slices.Contains(lines, `license smart reservation return authorization "<authorization-code>"`) {
		t.Errorf("help all:\n%s", out)
	}
}

// --json is one option of every command line, wherever it runs: the last
// word, or before the command; any other option is refused.
func TestJSONOption(t *testing.T) {
	r := newNode(t).at(t0, labUsage)
	for _, line := range []string{"show license UDI --json", "--json show license UDI", "  --json --json show license UDI  "} {
		if out, res := run(r, line); res != OK || out != "{\n  \"udi\": \"PID:UCM,SN:37624,UUID:"+testUUID+"\"\n}\n" {
			t.Errorf("%q: %q", line, out)
		}
	}
	if out, _ := run(r, "show license UDI"); !strings.HasPrefix(out, "UDI: ") {
		t.Errorf("without --json: %q", out)
	}
	if out, res := run(r, "-x show license UDI"); res != Failed || !strings.HasPrefix(out, "Unknown option -x: the only option of a command is --json.\n") {
		t.Errorf("-x: %q", out)
	}
	// Only what looks like an option is named whole; anything else is
	// quoted as an unknown word is.
	for opt, named := range map[string]bool{
		"--yaml": true, "-x": true, "--a-b2": true, "--" + strings.Repeat("a", 16): true,
		"--" + strings.Repeat("a", 17): false, "---x": false, "--2x": false, "--X": false, "--a_b": false, "-": false,
	} {
		out, _ := run(r, opt+" show license UDI")
		if got := strings.HasPrefix(out, "Unknown option "+opt+":"); got != named {
			t.Errorf("%s: %q", opt, out)
		}
	}
	if out, res := run(r, "license smart register idtoken \"--json\" --json"); res != Failed || strings.Contains(out, "Missing argument") {
		t.Errorf("a quoted --json is an argument: %q", out)
	}
}

// A command above the account's privilege level is refused with a clear
// sentence and changes nothing; show license (level 0) is for everyone, and
// show myself tells the level.
func TestPrivilegeLevels(t *testing.T) {
	r := newNode(t).at(t0, labUsage)
	for _, level := range []int{0, 1} {
		term := &fakeTerm{level: &level}
		if res := r.Execute(context.Background(), term, "license smart reservation enable"); res != Failed ||
			!strings.HasPrefix(term.String(), fmt.Sprintf("Insufficient privilege: license smart reservation enable needs privilege level 4, and the account admin has level %d.", level)) {
			t.Errorf("level %d: %q", level, term.String())
		}
		term.Reset()
		if res := r.Execute(context.Background(), term, "show license status"); res != OK {
			t.Errorf("level %d: show license status: %q", level, term.String())
		}
		term.Reset()
		r.Execute(context.Background(), term, "show myself")
		if !strings.Contains(term.String(), fmt.Sprintf("privilege level : %d\n", level)) {
			t.Errorf("show myself: %q", term.String())
		}
	}
	if out, _ := run(r, "show license status"); !strings.Contains(out, "Status: DISABLED") {
		t.Errorf("a refused command changed the state: %s", out)
	}
	// Every licensing change needs level 4 and every report level 0, as
	// on CUCM (REFERENCE §2).
	Tree.Walk(func(c *Command) {
		if c.Run != nil && c.changesState() && c.Priv != 4 {
			t.Errorf("%s has level %d, want 4", c.Path(), c.Priv)
		}
	})
	Tree.child("show").child("license").Walk(func(c *Command) {
		if c.Priv != 0 {
			t.Errorf("%s has level %d, want 0", c.Path(), c.Priv)
		}
	})
}

// The audit log of a session names the account, its address, the
// command's words and the result, and never a token.
func TestAuditLogLine(t *testing.T) {
	r := newNode(t).at(t0, labUsage)
	var b strings.Builder
	log := slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	r.Audit = AuditLog(log, "alice", "127.0.0.1:40000")
	run(r, "license smart reservation enable")
	run(r, `license smart register idtoken "s3cret-token"`)
	want := `level=INFO msg=command user=alice addr=127.0.0.1:40000 command="license smart reservation enable" result=ok
level=INFO msg=command user=alice addr=127.0.0.1:40000 command="license smart register idtoken" result=failed
`
	if b.String() != want {
		t.Errorf("logged\n%s\nwant\n%s", b.String(), want)
	}
}

// IsCommand tells a complete command (Tab repeats the line) from a line
// that is incomplete or not a command (Tab does nothing).
func TestIsCommand(t *testing.T) {
	r := newNode(t).at(t0, labUsage)
	for line, want := range map[string]bool{
		"show myself": true, "SHOW MYSELF ": true, "show license status --json": true,
		"license smart register idtoken abc": true, `license smart reservation install "x`: false,
		"license smart register idtoken": false, "show": false, "show license": false,
		"show bogus": false, "": false, "show myself extra": false,
	} {
		if got := r.IsCommand(line); got != want {
			t.Errorf("IsCommand(%q) = %v, want %v", line, got, want)
		}
	}
}
