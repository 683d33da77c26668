package shell

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/internal/termtest"
)

// rterm is a session on a remote terminal driven through pipes, as an SSH
// channel with a PTY would drive it.
type rterm struct {
	*termtest.Screen
	t    *testing.T
	in   *io.PipeWriter
	w, h atomic.Int32
	done chan struct{}
	ed   *remote
}

func startRemote(t *testing.T, w, h int, cfg Config) *rterm {
	t.Helper()
	pr, pw := io.Pipe()
	r := &rterm{Screen: termtest.New(t, pw), t: t, in: pw, done: make(chan struct{})}
	r.w.Store(int32(w))
	r.h.Store(int32(h))
	cfg.Editor = NewRemote(pr, r.Out, func() (int, int) { return int(r.w.Load()), int(r.h.Load()) })
	r.ed = cfg.Editor.(*remote)
	if cfg.Run == nil {
		cfg.Run = echo
	}
	if cfg.OpenQuote == nil {
		cfg.OpenQuote = func(text string) bool { return strings.Count(text, `"`)%2 == 1 }
	}
	s := New(cfg)
	// As ucmsh serve runs an SSH shell: the session parks at each idle
	// prompt and goes on in a goroutine of its own.
	go s.Start(context.Background(), func(int) {
		pr.Close() // the owner closes the channel after the session
		close(r.done)
	})
	t.Cleanup(func() {
		pw.Close()
		select {
		case <-r.done:
		case <-time.After(5 * time.Second):
			t.Error("the session did not end")
		}
	})
	return r
}

func (r *rterm) wait() {
	r.t.Helper()
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		r.t.Fatal("the session did not end")
	}
}

// screen is a small model of a terminal (autowrap with the pending-wrap
// state of xterm; CR, LF, BS and the cursor and erase sequences the
// editor uses), to check what a client would show.
type screen struct {
	w, rows  int
	cells    [][]rune
	r, c     int
	pendWrap bool
}

func newScreen(w int) *screen { return &screen{w: w} }

func (s *screen) line(r int) []rune {
	for len(s.cells) <= r {
		s.cells = append(s.cells, []rune(strings.Repeat(" ", s.w)))
	}
	return s.cells[r]
}

func (s *screen) feed(t *testing.T, out string) {
	rs := []rune(out)
	for i := 0; i < len(rs); i++ {
		ch := rs[i]
		switch {
		case ch == '\r':
			s.c, s.pendWrap = 0, false
		case ch == '\n':
			s.r++
			s.pendWrap = false
		case ch == '\b':
			if s.c > 0 {
				s.c--
			}
			s.pendWrap = false
		case ch == 0x1b:
			if i+1 >= len(rs) || rs[i+1] != '[' {
				t.Fatalf("unexpected escape at %d in %q", i, out)
			}
			j := i + 2
			for j < len(rs) && (rs[j] >= '0' && rs[j] <= '9' || rs[j] == ';') {
				j++
			}
			n := 1
			fmt.Sscanf(string(rs[i+2:j]), "%d", &n)
			switch rs[j] {
			case 'A':
				s.r -= n
			case 'B':
				s.r += n
			case 'C':
				s.c = min(s.c+n, s.w-1)
			case 'K':
				l := s.line(s.r)
				for k := s.c; k < s.w; k++ {
					l[k] = ' '
				}
			case 'J':
				if string(rs[i+2:j]) == "2" {
					s.cells = nil
					break
				}
				l := s.line(s.r)
				for k := s.c; k < s.w; k++ {
					l[k] = ' '
				}
				if len(s.cells) > s.r+1 {
					s.cells = s.cells[:s.r+1]
				}
			case 'H':
				s.r, s.c = 0, 0
			case 'm':
			default:
				t.Fatalf("unexpected sequence %q", string(rs[i:j+1]))
			}
			s.pendWrap = false
			if s.r < 0 {
				t.Fatalf("cursor above the screen after %q", out[:min(len(out), i+10)])
			}
			i = j
		default:
			if s.pendWrap {
				s.r, s.c, s.pendWrap = s.r+1, 0, false
			}
			s.line(s.r)[s.c] = ch
			if s.c == s.w-1 {
				s.pendWrap = true
			} else {
				s.c++
			}
		}
	}
}

// text is the screen's rows without trailing blanks, joined.
func (s *screen) text() string {
	var b strings.Builder
	for _, l := range s.cells {
		b.WriteString(strings.TrimRight(string(l), " "))
		b.WriteByte('|')
	}
	return b.String()
}

func TestRemoteEchoIsOneCleanLine(t *testing.T) {
	r := startRemote(t, 80, 24, Config{Banner: "Welcome\n\n"})
	r.Expect("Welcome\r\n\r\nadmin:")
	if rest := r.Idle(30 * time.Millisecond); rest != "" {
		t.Fatalf("something after the prompt: %q", rest)
	}
	r.Send("show license status\r")
	got := r.Expect("admin:")
	if want := "show license status\r\nran \"show license status\" (19 bytes)\r\nadmin:"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	// A bare Enter draws the prompt again on a new line, as "\r\n\radmin:"
	// (Cisco's VOS mock device).
	r.Send("\r")
	if got := r.Expect("admin:"); got != "\r\n\radmin:" {
		t.Fatalf("bare Enter: %q", got)
	}
	r.Send("quit\n")
	r.wait()
}

// Clients send lines at once, ahead of the prompt, with CR, LF or CR LF.
func TestRemoteTypeAhead(t *testing.T) {
	r := startRemote(t, 80, 24, Config{})
	r.Send("one\rtwo\r\nthree\nquit\r\n")
	r.wait()
	want := "admin:one\r\nran \"one\" (3 bytes)\r\nadmin:two\r\nran \"two\" (3 bytes)\r\nadmin:three\r\nran \"three\" (5 bytes)\r\nadmin:quit\r\nran \"quit\" (4 bytes)\r\n"
	if got := r.Out.String(); got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

// A long code pasted at once is echoed exactly as sent: no redraw, no
// inserted line ends, whatever the width.
func TestRemoteLongPaste(t *testing.T) {
	r := startRemote(t, 80, 24, Config{MaxLine: 64 << 10})
	r.Expect("admin:")
	code := strings.Repeat("<abcdefghijklmnopqrstuvwxyz0123456789+/=>", 200)
	line := `license smart reservation install "` + code + `"`
	r.Send(line + "\n")
	got := r.Expect("\r\n")
	if got != line+"\r\n" || strings.Contains(got, "\x1b") {
		t.Fatalf("echo is not the line (%d bytes vs %d)", len(got), len(line)+2)
	}
	r.Expect(fmt.Sprintf("(%d bytes)\r\nadmin:", len(line)))

	// Pasted across lines: each line is echoed, the command is joined.
	r.Send("install \"abc\r\ndef\"\r")
	if got := r.Expect("admin:"); got != "install \"abc\r\ndef\"\r\nran \"install \\\"abc\\ndef\\\"\" (17 bytes)\r\nadmin:" {
		t.Fatalf("got %q", got)
	}
}

func TestRemoteOverlongLineIsCut(t *testing.T) {
	r := startRemote(t, 80, 24, Config{MaxLine: 16})
	r.Expect("admin:")
	r.Send(strings.Repeat("x", 100) + "\r")
	got := r.Expect("admin:")
	if !strings.HasPrefix(got, strings.Repeat("x", 17)+"\r\n") || !strings.Contains(got, "(17 bytes)") {
		t.Fatalf("got %q", got)
	}
}

func TestRemoteEditing(t *testing.T) {
	r := startRemote(t, 80, 24, Config{})
	r.Expect("admin:")
	r.Send("shx\x7fow\r") // backspace
	if got := r.Expect("admin:"); !strings.HasPrefix(got, "shx\b \bow\r\n") || !strings.Contains(got, `ran "show"`) {
		t.Fatalf("backspace: %q", got)
	}
	r.Send("garbage\x15fine\r") // Control-U
	r.Expect(`ran "fine"`)
	r.Send("wrd\x1b[D\x1b[Do\r") // arrows, insert in the middle
	r.Expect(`ran "word"`)
	r.Send("a b c\x17\x17x\r") // Control-W
	r.Expect(`ran "a x"`)
	r.Send("abc\x01X\x05Y\x02\x02\x0b\r") // Home, End, Left, Control-K
	r.Expect(`ran "Xab"`)
	r.Send("xy\x1b[H\x1b[3~\r") // Home, Delete
	r.Expect(`ran "y"`)
	r.Send("a\x07\x1b\x1b[5~b\r") // control characters and unknown keys are dropped
	r.Expect(`ran "ab"`)
	r.Send("caf\xc3\xa9\xff\r") // UTF-8; invalid bytes are dropped
	r.Expect(`ran "café"`)
	r.Send("\x1b[A\x1b[A\r") // history
	r.Expect(`ran "ab"`)
	r.Send("\x10\x10\x0e\r") // Control-P twice, Control-N
	r.Expect(`ran "ab"`)
	// A key after a lone Escape, or after a broken character, counts
	// even when it is the last byte that arrived.
	r.Send("ab\x1bc")
	r.Expect("abc")
	r.Send("\xc3d")
	if got := r.Expect("d"); got != "d" {
		t.Fatalf("after a broken character: %q", got)
	}
	r.Send("\r")
	r.Expect(`ran "abcd"`)
}

// Editing a line that wraps keeps the screen right.
func TestRemoteWrappedEditing(t *testing.T) {
	const w = 20
	r := startRemote(t, w, 24, Config{})
	sc := newScreen(w)
	// waitScreen feeds the output to the screen until it shows want.
	waitScreen := func(what, want string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			sc.feed(t, r.Rest())
			if sc.text() == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the screen shows\n%q\nwant\n%q", what, sc.text(), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitScreen("prompt", "admin:|")
	// 14 characters fill the first row exactly (6 + 14 = 20).
	r.Send("abcdefghijklmn")
	waitScreen("a full row", "admin:abcdefghijklmn|")
	r.Send("\x7f\x7fMN")
	waitScreen("backspace at a full row", "admin:abcdefghijklMN|")
	r.Send("opqrstuvwxyz0123456789")
	r.Send(strings.Repeat("\x1b[D", 22) + "_")
	r.Send("\x05!\x7f\x7f")
	waitScreen("insert in a wrapped line", "admin:abcdefghijklMN|_opqrstuvwxyz0123456|78|")
	r.Send("\x15") // Control-U on a wrapped line
	waitScreen("Control-U", "admin:|")
	r.Send("ok\r")
	r.Expect(`ran "ok"`)
}

func TestRemoteControlC(t *testing.T) {
	started := make(chan struct{}, 1)
	run := func(ctx context.Context, s *Session, line string) Outcome {
		if line == "wait" {
			started <- struct{}{}
			<-ctx.Done()
			fmt.Fprintln(s, "not shown")
			return Failed
		}
		return echo(ctx, s, line)
	}
	r := startRemote(t, 80, 24, Config{Run: run})
	r.Expect("admin:")
	r.Send("show lic\x03")
	if got := r.Expect("admin:"); got != "show lic\r\nControl-C pressed\r\nadmin:" {
		t.Fatalf("at the prompt: %q", got)
	}
	r.Send("wait\r")
	<-started
	r.Send("typed ahead\x03")
	got := r.Expect("admin:")
	if got != "wait\r\nControl-C pressed\r\nadmin:" {
		t.Fatalf("during a command: %q", got)
	}
	r.Send("next\r")
	if got := r.Expect("admin:"); !strings.HasPrefix(got, "next\r\n") {
		t.Fatalf("the typed-ahead line was not dropped: %q", got)
	}
}

func TestRemoteCompletion(t *testing.T) {
	complete := func(line string) (string, []Candidate) {
		words := strings.Split(line, " ")
		partial := words[len(words)-1]
		var out []Candidate
		for _, c := range []Candidate{{"register", "register*"}, {"deregister", "deregister"}, {"renew", "renew*"}, {"reservation", "reservation*"}} {
			if strings.HasPrefix(c.Word, partial) {
				out = append(out, c)
			}
		}
		return partial, out
	}
	r := startRemote(t, 40, 24, Config{Complete: complete})
	r.Expect("admin:")
	r.Send("license smart \t")
	got := r.Expect("admin:license smart ")
	if want := "license smart \r\nregister*     deregister\r\nrenew*        reservation*\r\nadmin:license smart "; got != want {
		t.Fatalf("listing:\n%q\nwant\n%q", got, want)
	}
	r.Send("res\t")
	if got := r.Expect("reservation "); got != "reservation " {
		t.Fatalf("completion: %q", got)
	}
	r.Send("\r")
	r.Expect(`ran "license smart reservation "`)
	r.Send("x\t\x7fdereg\t\r") // no candidates for x: nothing happens
	r.Expect(`ran "deregister "`)
}

// Tab on a complete command shows the line again on a new row, as CUCM
// does; on a line nothing continues, Tab does nothing.
func TestRemoteTabRepeatsACompleteCommand(t *testing.T) {
	none := func(line string) (string, []Candidate) { return "", nil }
	isCommand := func(line string) bool { return strings.TrimSpace(line) == "show myself" }
	r := startRemote(t, 40, 24, Config{Complete: none, IsCommand: isCommand})
	r.Expect("admin:")
	r.Send("show myself\t")
	if got := r.Expect("admin:show myself"); got != "show myself\r\nadmin:show myself" {
		t.Fatalf("Tab on a complete command: %q", got)
	}
	r.Send("x\t\r") // "show myselfx" is no command: Tab adds nothing
	if got := r.Expect(`ran "show myselfx"`); strings.Contains(got, "admin:") {
		t.Fatalf("Tab on no match redrew the line: %q", got)
	}
}

func TestRemotePagerFollowsTheWindow(t *testing.T) {
	run := func(_ context.Context, s *Session, line string) Outcome {
		for i := 1; i <= 20; i++ {
			fmt.Fprintf(s, "line %d\n", i)
		}
		return OK
	}
	r := startRemote(t, 80, 6, Config{Run: run})
	r.Expect("admin:")
	r.Send("show\r")
	got := r.Expect(pagePrompt)
	if !strings.Contains(got, "line 5\r\n") || strings.Contains(got, "line 6") {
		t.Fatalf("first page: %q", got)
	}
	r.Send(" ")
	got = r.Expect(pagePrompt)
	if !strings.HasPrefix(got, pageErase+"line 6\r\n") || !strings.Contains(got, "line 10\r\n") || strings.Contains(got, "line 11") {
		t.Fatalf("second page: %q", got)
	}
	r.h.Store(3) // the window shrinks
	r.Send(" ")
	got = r.Expect(pagePrompt)
	if !strings.Contains(got, "line 12\r\n") || strings.Contains(got, "line 13") {
		t.Fatalf("page after the window changed: %q", got)
	}
	r.Send("\r")
	if got = r.Expect(pagePrompt); !strings.Contains(got, "line 13\r\n") || strings.Contains(got, "line 14") {
		t.Fatalf("one line: %q", got)
	}
	r.Send("x") // other keys wait
	r.Send("q")
	got = r.Expect("admin:")
	if got != pageErase+"admin:" || strings.Contains(got, "\x1b") {
		t.Fatalf("after q: %q", got)
	}
	r.Send("show\r")
	r.Expect(pagePrompt)
	r.Send("\x03")
	if got := r.Expect("admin:"); got != pageErase+"Control-C pressed\r\nadmin:" {
		t.Fatalf("Control-C at the pager: %q", got)
	}
}

func TestRemoteQuestions(t *testing.T) {
	run := func(ctx context.Context, s *Session, line string) Outcome {
		if line == "secret" {
			pw, err := s.ReadSecret(ctx, "Password:")
			fmt.Fprintf(s, "got %q %v\n", pw, err)
			return OK
		}
		ok, err := s.Confirm(ctx, "Continue (y/n)?")
		fmt.Fprintf(s, "%s: %v %v\n", line, ok, err)
		if err != nil {
			return Failed
		}
		return OK
	}
	r := startRemote(t, 80, 24, Config{Run: run})
	r.Expect("admin:")
	r.Send("one\r")
	r.Expect("Continue (y/n)?")
	for _, c := range "yes\r" { // one character at a time
		r.Send(string(c))
	}
	if got := r.Expect("admin:"); got != "yes\r\none: true <nil>\r\nadmin:" {
		t.Fatalf("got %q", got)
	}
	r.Send("two\rmaybe\rN\r") // all at once, ahead of the question
	if got := r.Expect("admin:"); got != "two\r\nContinue (y/n)?maybe\r\nContinue (y/n)?N\r\ntwo: false <nil>\r\nadmin:" {
		t.Fatalf("got %q", got)
	}
	r.Send("three\r")
	r.Expect("Continue (y/n)?")
	r.Send("\x03")
	if got := r.Expect("admin:"); !strings.HasPrefix(got, "\r\nControl-C pressed\r\nadmin:") {
		t.Fatalf("Control-C at a question: %q", got)
	}
	r.Send("secret\rhunter2\x7f2\r")
	// A password shows one "*" per character (CUCM's proxy dialogue).
	if got := r.Expect("admin:"); got != "secret\r\nPassword:*******\b \b*\r\ngot \"hunter2\" <nil>\r\nadmin:" {
		t.Fatalf("secret: %q", got)
	}
}

// Control-D on an empty line and the end of input end the session, and
// the reader goroutine ends once the input is closed.
func TestRemoteEndsCleanly(t *testing.T) {
	before := runtime.NumGoroutine()
	for _, keys := range []string{"abc\x04\x04\x01\x04\x04\x04\x04", ""} {
		r := startRemote(t, 80, 24, Config{})
		r.Expect("admin:")
		if keys == "" {
			r.in.Close()
		} else {
			r.Send(keys)
		}
		r.wait()
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines, %d before", n, before)
	}
}

// A flood of input is not all held in memory: the reader waits.
func TestRemoteInputIsBounded(t *testing.T) {
	block := make(chan struct{})
	run := func(context.Context, *Session, string) Outcome { <-block; return Quit }
	r := startRemote(t, 80, 24, Config{Run: run, MaxLine: 100})
	r.Expect("admin:")
	r.Send("x\r")
	sent := make(chan int)
	go func() {
		n := 0
		for n < 1<<20 {
			m, err := r.in.Write(make([]byte, 1024))
			n += m
			if err != nil {
				break
			}
		}
		sent <- n
	}()
	time.Sleep(100 * time.Millisecond)
	select {
	case n := <-sent:
		t.Fatalf("a command that reads nothing took %d bytes of input", n)
	default:
	}
	close(block)
	r.wait()
	r.in.CloseWithError(io.ErrClosedPipe)
	<-sent
}

func TestShellWithoutTerminal(t *testing.T) {
	var out strings.Builder
	run := func(ctx context.Context, s *Session, line string) Outcome {
		if line == "ask" {
			ok, err := s.Confirm(ctx, "Continue (y/n)?")
			fmt.Fprintf(s, "answer %v %v\n", ok, err)
			return OK
		}
		return echo(ctx, s, line)
	}
	s := New(Config{
		Editor:    NewPlain(strings.NewReader("one\n\nask\ny\nbad\x03line\nfail now\nquit\nnever\n"), &out, true),
		Banner:    "Banner\n\n",
		OpenQuote: func(string) bool { return false },
		Run:       run,
	})
	failures := s.Run(context.Background())
	want := "Banner\n\nadmin:\nran \"one\" (3 bytes)\nadmin:\nadmin:\nContinue (y/n)?\nanswer true <nil>\nadmin:\nControl-C pressed\nadmin:\nran \"fail now\" (8 bytes)\nadmin:\nran \"quit\" (4 bytes)\n"
	if out.String() != want || failures != 1 {
		t.Fatalf("got %q (%d failures)\nwant %q", out.String(), failures, want)
	}
}

func TestExecReadsAnswersFromInput(t *testing.T) {
	var out strings.Builder
	run := func(ctx context.Context, s *Session, line string) Outcome {
		ok, err := s.Confirm(ctx, "Continue (y/n)?")
		fmt.Fprintf(s, "%s: %v %v\n", line, ok, err)
		return OK
	}
	s := New(Config{Editor: NewPlain(strings.NewReader("no\n"), &out, false), Run: run})
	if !s.RunLine(context.Background(), "deregister") {
		t.Fatal("failed")
	}
	if want := "Continue (y/n)?\nderegister: false <nil>\n"; out.String() != want {
		t.Fatalf("got %q", out.String())
	}
}

// Interrupt may come from another goroutine while a command runs.
func TestInterruptFromAnotherGoroutine(t *testing.T) {
	started := make(chan struct{})
	run := func(ctx context.Context, s *Session, line string) Outcome {
		close(started)
		<-ctx.Done()
		return Failed
	}
	s := New(Config{Editor: NewPlain(strings.NewReader(""), io.Discard, false), Run: run})
	go func() {
		<-started
		s.Interrupt()
	}()
	if s.RunLine(context.Background(), "x") {
		t.Fatal("an interrupted command succeeded")
	}
	s.Interrupt() // nothing runs: nothing happens
}

// reading reports whether the session's reader goroutine runs.
func (r *rterm) reading() bool {
	k := r.ed.keys
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.running
}

// An idle session at its prompt holds no reader goroutine: the session
// itself waits for the keys. One reads while a command runs (Control-C
// reaches it) and ends at the first key typed at the next prompt.
func TestRemoteIdlePromptHoldsNoReader(t *testing.T) {
	started, finish := make(chan struct{}), make(chan struct{})
	run := func(ctx context.Context, s *Session, line string) Outcome {
		if line == "slow" {
			close(started)
			<-finish
		}
		return echo(ctx, s, line)
	}
	r := startRemote(t, 80, 24, Config{Run: run})
	defer func() {
		select {
		case <-finish:
		default:
			close(finish)
		}
	}()
	r.Expect("admin:")
	if r.reading() {
		t.Fatal("a reader goroutine runs at the first prompt")
	}
	r.Send("slow\r")
	<-started
	if !r.reading() {
		t.Fatal("no reader goroutine while a command runs")
	}
	r.Send("next\r") // typed ahead, kept for the prompt
	close(finish)
	r.Expect(`ran "slow"`)
	r.Expect(`ran "next"`)
	r.Expect("admin:")
	r.Send("q")
	deadline := time.Now().Add(2 * time.Second)
	for r.reading() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if r.reading() {
		t.Fatal("the reader goroutine still runs at the prompt after a key")
	}
	r.Send("uit\r")
	r.wait()
}

// At an idle command prompt a session started with Start gives its
// goroutine back: what waits for the next key is a goroutine with none of
// the session's loop on its stack, so an idle SSH session keeps no stack
// that its commands grew. Typed-ahead lines still run one after the other.
func TestIdlePromptParksTheSession(t *testing.T) {
	r := startRemote(t, 80, 24, Config{})
	// Parked: no goroutine in the session loop, and one reading keys
	// (after a command, the reader goroutine that read for it).
	parked := func(when string) {
		t.Helper()
		var stacks string
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			buf := make([]byte, 1<<20)
			stacks = string(buf[:runtime.Stack(buf, true)])
			waiting := 0
			for _, g := range strings.Split(stacks, "\n\n") {
				if strings.Contains(g, "shell.(*keyReader).take(") {
					waiting++
				}
			}
			if !strings.Contains(stacks, "shell.(*Session).loop") && waiting == 1 {
				return
			}
		}
		t.Fatalf("%s: want no goroutine in the session loop and one waiting for keys:\n%s", when, stacks)
	}
	r.Expect("admin:")
	parked("at the first prompt")
	r.Send("show one\r")
	r.Expect(`ran "show one"`)
	r.Expect("admin:")
	parked("after a command")
	r.Send("two\rthree\r")
	r.Expect(`ran "two"`)
	r.Expect(`ran "three"`)
	r.Expect("admin:")
	parked("after typed-ahead commands")
	r.Send("quit\r")
	r.wait()
}

// Start reports the exit status as Exit does, with any editor: a script
// whose command failed ends with 1, before Start returns when the editor
// cannot park.
func TestStartReportsTheExitStatus(t *testing.T) {
	var out strings.Builder
	s := New(Config{Editor: NewPlain(strings.NewReader("one\nfail now\n"), &out, false), Run: echo})
	status := -1
	s.Start(context.Background(), func(st int) { status = st })
	if status != 1 {
		t.Fatalf("status %d, want 1 (output %q)", status, out.String())
	}
}

// The remote terminal's writer turns "\n" into "\r\n" as bufio over
// crlfWriter did, whatever the writes' sizes, and holds no buffer once
// flushed.
func TestTermWriterHoldsNothingBetweenFlushes(t *testing.T) {
	var got, want strings.Builder
	tw := &termWriter{w: &got}
	ref := NewCRLFWriter(&want)
	text := strings.Repeat("line one\nline two\r\nthree\n\n", 500) // over 4 KiB
	for i, n := 0, 1; i < len(text); i, n = i+n, n*3%4097+1 {
		part := text[i:min(i+n, len(text))]
		switch n % 3 {
		case 0:
			tw.WriteString(part)
		case 1:
			tw.Write([]byte(part))
		default:
			for _, r := range part {
				tw.WriteRune(r)
			}
		}
	}
	ref.Write([]byte(text))
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Fatalf("output differs from crlfWriter's (%d bytes against %d)", got.Len(), want.Len())
	}
	if tw.buf != nil {
		t.Fatal("the writer holds a buffer after Flush")
	}
}

// After a long report the session lets the report's memory go: a session
// idle at its prompt holds none of it.
func TestLongOutputIsNotKeptAfterwards(t *testing.T) {
	var sess *Session
	run := func(ctx context.Context, s *Session, line string) Outcome {
		sess = s
		s.SetPagination(false)
		fmt.Fprint(s, strings.Repeat("a line of a long report\n", 4000))
		return OK
	}
	r := startRemote(t, 80, 24, Config{Run: run})
	r.Expect("admin:")
	r.Send("show license all\r")
	r.Expect("admin:")
	if sess.buf != nil {
		t.Fatalf("the session keeps a buffer of %d bytes after the report", sess.buf.Cap())
	}
	r.Send("quit\r")
}

// An interrupt from elsewhere (an SSH "signal" request) ends a question a
// command asks at once, even when a key has been typed at it: the reader
// goroutine, not the session, waits for the input inside a command.
func TestInterruptEndsAQuestion(t *testing.T) {
	var sess *Session
	asked := make(chan struct{}, 1)
	run := func(ctx context.Context, s *Session, line string) Outcome {
		sess = s
		asked <- struct{}{}
		ok, err := s.Confirm(ctx, "Continue (y/n)?")
		fmt.Fprintf(s, "answer %v %v\n", ok, err)
		return OK
	}
	r := startRemote(t, 80, 24, Config{Run: run})
	r.Expect("admin:")
	r.Send("ask\r")
	<-asked
	r.Expect("Continue (y/n)?")
	r.Send("m") // a key at the question, then nothing
	r.Expect("m")
	sess.Interrupt()
	if got := r.Expect("admin:"); !strings.Contains(got, "Control-C pressed") {
		t.Fatalf("the interrupted question: %q", got)
	}
	r.Send("quit\r")
}
