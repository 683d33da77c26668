package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/chzyer/readline"
)

// ErrInterrupted is returned by a question answered with Control-C. It
// wraps context.Canceled so the command layer treats it as an abort.
var ErrInterrupted = fmt.Errorf("%s: %w", msgControlC, context.Canceled)

// errControlC is what reading a command returns for Control-C.
var errControlC = errors.New(msgControlC)

// TermIO is the terminal an interactive session runs on. The zero value is
// the process's own terminal.
type TermIO struct {
	// Size reports the terminal's columns and rows. It is asked each
	// time they matter, so it may follow window changes.
	Size func() (width, height int)
	// Remote is a terminal at the other end of Config.In and Config.Out,
	// such as an SSH channel with a PTY: there is no terminal driver in
	// between, so the session edits lines itself (echoing what is typed,
	// plainly), writes "\r\n" line ends, and keeps history in memory.
	// Config.In is read by a goroutine of the session until it ends or
	// fails: close it once RunInteractive returns.
	Remote bool
}

// console is what an interactive session reads from and writes to: the
// process's terminal with readline, or a remote terminal.
type console interface {
	// readCommand reads a command line, joining lines while a quote is
	// open. It returns errControlC for Control-C and another error when
	// the session should end.
	readCommand() (string, error)
	saveHistory(line string)
	ask(ctx context.Context, prompt string, secret bool) (string, error)
	page(ctx context.Context, out string)
	close()
}

// What the terminal is reading, so the key filter knows what Tab, space
// and q mean.
const (
	modeCommand int32 = iota
	modePager
	modeQuestion
)

type terminal struct {
	s     *Session
	rl    *readline.Instance
	stdin *readline.CancelableStdin
	size  func() (int, int)

	mode atomic.Int32
	tab  atomic.Bool  // the last key was Tab, passed to the listener as Bell
	key  atomic.Int32 // the pager key pressed
}

func newTerminal(s *Session, tio TermIO) (*terminal, error) {
	t := &terminal{s: s, size: tio.Size}
	if t.size == nil {
		t.size = func() (int, int) {
			w, h, err := readline.GetSize(int(os.Stdout.Fd()))
			if err != nil || w <= 0 || h <= 0 {
				return 80, 24
			}
			return w, h
		}
	}
	history := s.cfg.HistoryFile
	if history != "" {
		// readline would create it world-readable; history may hold codes.
		// A symbolic link (O_NOFOLLOW fails) is never followed: no history.
		if f, err := os.OpenFile(history, os.O_CREATE|os.O_APPEND|os.O_WRONLY|syscall.O_NOFOLLOW, 0o600); err == nil {
			f.Close()
		} else {
			history = ""
		}
	}
	// readline wraps its input in a reader whose Close does not reach
	// this one; closing it ourselves is what lets Close return when
	// readline's reader is waiting for a key.
	t.stdin = readline.NewCancelableStdin(os.Stdin)
	rl, err := readline.NewEx(&readline.Config{
		Stdin:                  t.stdin,
		Prompt:                 Prompt,
		HistoryFile:            history,
		HistoryLimit:           1000,
		DisableAutoSaveHistory: true,
		InterruptPrompt:        "",
		EOFPrompt:              "",
		FuncFilterInputRune:    t.filter,
		Listener:               readline.FuncListener(t.onKey),
		FuncGetWidth:           func() int { w, _ := t.size(); return w },
	})
	if err != nil {
		t.stdin.Close()
		return nil, fmt.Errorf("cannot start line editing: %w", err)
	}
	t.rl = rl
	return t, nil
}

func (t *terminal) close() {
	t.stdin.Close()
	t.rl.Close()
}

// filter runs in readline's reader for every key.
func (t *terminal) filter(r rune) (rune, bool) {
	switch t.mode.Load() {
	case modePager:
		switch r {
		case ' ', 'q', 'Q', '\r', '\n':
			t.key.Store(r)
			return readline.CharEnter, true
		case readline.CharInterrupt:
			return r, true
		}
		return r, false
	case modeCommand:
		if r == readline.CharTab {
			// Readline would ring the bell for Tab without its own
			// completer; Bell is a no-op key that still reaches onKey.
			t.tab.Store(true)
			return readline.CharBell, true
		}
	}
	return r, true
}

// onKey completes the word before the cursor when Tab was pressed.
func (t *terminal) onKey(line []rune, pos int, key rune) ([]rune, int, bool) {
	if key != readline.CharBell || !t.tab.Swap(false) {
		return nil, 0, false
	}
	out, newPos, list := completeAt(t.s.cfg.Complete, line, pos)
	if list != nil {
		// Readline clears the line being typed before this is written,
		// then draws the prompt and the line again under it. The
		// terminal driver adds the carriage returns.
		t.rl.Stdout().Write([]byte(Prompt + string(line) + "\n" + listing(t.width(), list) + "\n"))
		return nil, 0, false
	}
	if out == nil {
		return nil, 0, false
	}
	return out, newPos, true
}

func (t *terminal) width() int {
	w, _ := t.size()
	return w
}

// completeAt completes the word before pos: it returns the new line and
// cursor, or, when several words continue it and nothing can be added,
// the candidates to list. Both are nil when Tab does nothing.
func completeAt(complete func(string) (string, []Candidate), line []rune, pos int) ([]rune, int, []Candidate) {
	if complete == nil {
		return nil, 0, nil
	}
	partial, cands := complete(string(line[:pos]))
	if len(cands) == 0 {
		return nil, 0, nil
	}
	insert := commonPrefix(cands)
	if len(cands) == 1 {
		insert += " "
	}
	if len(cands) > 1 && len(insert) <= len(partial) {
		return nil, 0, cands
	}
	start := max(0, pos-len([]rune(partial)))
	out := append(append(append([]rune{}, line[:start]...), []rune(insert)...), line[pos:]...)
	return out, start + len([]rune(insert)), nil
}

// listing lays out completion candidates in columns for a terminal of the
// given width, without a final line end.
func listing(width int, cands []Candidate) string {
	colw := 0
	for _, c := range cands {
		colw = max(colw, len(c.Label)+2)
	}
	perRow := max(1, width/colw)
	var b strings.Builder
	for i, c := range cands {
		if i > 0 && i%perRow == 0 {
			b.WriteString("\n")
		}
		if (i+1)%perRow == 0 || i == len(cands)-1 {
			b.WriteString(c.Label)
		} else {
			fmt.Fprintf(&b, "%-*s", colw, c.Label)
		}
	}
	return b.String()
}

// commonPrefix is the longest start all candidates share, ignoring case,
// spelled as the first candidate spells it.
func commonPrefix(cands []Candidate) string {
	p := cands[0].Word
	for _, c := range cands[1:] {
		n := 0
		for n < len(p) && n < len(c.Word) && strings.EqualFold(p[n:n+1], c.Word[n:n+1]) {
			n++
		}
		p = p[:n]
	}
	return p
}

// readLine reads one line at prompt in the given mode.
func (t *terminal) readLine(prompt string, mode int32) (string, error) {
	t.mode.Store(mode)
	t.rl.SetPrompt(prompt)
	return t.rl.Readline()
}

func (t *terminal) ask(ctx context.Context, prompt string, secret bool) (string, error) {
	var (
		line string
		err  error
	)
	if secret {
		t.mode.Store(modeQuestion)
		var b []byte
		b, err = t.rl.ReadPassword(prompt)
		line = string(b)
	} else {
		line, err = t.readLine(prompt, modeQuestion)
	}
	switch {
	case errors.Is(err, readline.ErrInterrupt):
		t.s.Interrupt()
		return "", ErrInterrupted
	case err != nil:
		return "", ErrNoAnswer
	}
	return line, ctx.Err()
}

// page writes out a screen at a time, asking between screens.
func (t *terminal) page(ctx context.Context, out string) {
	_, h := t.size()
	rows := max(1, h-1)
	lines := strings.SplitAfter(out, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	w := t.s.out
	end := min(rows, len(lines))
	io.WriteString(w, strings.Join(lines[:end], ""))
	for end < len(lines) && ctx.Err() == nil {
		_, err := t.readLine(pagePrompt, modePager)
		io.WriteString(w, "\x1b[1A\r\x1b[K") // take the question away again
		if err != nil {
			t.s.Interrupt()
			return
		}
		n := rows
		switch t.key.Load() {
		case 'q', 'Q':
			return
		case '\r', '\n':
			n = 1
		}
		next := min(end+n, len(lines))
		io.WriteString(w, strings.Join(lines[end:next], ""))
		end = next
	}
}

func (t *terminal) saveHistory(line string) { t.rl.SaveHistory(line) }

// RunInteractive is the interactive session: banner, prompt, line editing,
// completion, history and paging. It returns how many commands failed.
func (s *Session) RunInteractive(ctx context.Context, tio TermIO) (int, error) {
	var t console
	if tio.Remote {
		t = newRemote(ctx, s, tio)
	} else {
		lt, err := newTerminal(s, tio)
		if err != nil {
			return 0, err
		}
		t = lt
	}
	defer t.close()
	s.term = t
	defer func() { s.term = nil }()
	io.WriteString(s.out, s.cfg.Banner)
	failures := 0
	for ctx.Err() == nil {
		text, err := t.readCommand()
		if errors.Is(err, errControlC) {
			fmt.Fprintln(s.out, msgControlC)
			continue
		}
		if err != nil {
			break // end of input (Control-D)
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		t.saveHistory(strings.ReplaceAll(text, "\n", ""))
		outcome, interrupted := s.runOne(ctx, text)
		if interrupted {
			fmt.Fprintln(s.out, msgControlC)
		}
		if outcome == Failed {
			failures++
		}
		if outcome == Quit {
			break
		}
	}
	return failures, nil
}

// readCommand reads a command, joining lines while a quote is open (an
// authorization code pasted across several lines).
func (t *terminal) readCommand() (string, error) {
	text, err := t.readLine(Prompt, modeCommand)
	for err == nil && t.s.cfg.OpenQuote(text) && len(text) <= t.s.cfg.MaxLine {
		var more string
		more, err = t.readLine("", modeCommand)
		text += "\n" + more
	}
	if errors.Is(err, readline.ErrInterrupt) {
		err = errControlC
	}
	return text, err
}
