package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/chzyer/readline"
)

// ErrInterrupted is returned by a question answered with Control-C. It
// wraps context.Canceled so the command layer treats it as an abort.
var ErrInterrupted = fmt.Errorf("%s: %w", msgControlC, context.Canceled)

// TermIO is the terminal an interactive session runs on. The zero value is
// the process's own terminal.
type TermIO struct {
	// Size reports the terminal's columns and rows.
	Size func() (width, height int)
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

	mu     sync.Mutex
	cancel context.CancelFunc // of the running command
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
	if s.cfg.HistoryFile != "" {
		// readline would create it world-readable; history may hold codes.
		if f, err := os.OpenFile(s.cfg.HistoryFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600); err == nil {
			f.Close()
		}
	}
	// readline wraps its input in a reader whose Close does not reach
	// this one; closing it ourselves is what lets Close return when
	// readline's reader is waiting for a key.
	t.stdin = readline.NewCancelableStdin(os.Stdin)
	rl, err := readline.NewEx(&readline.Config{
		Stdin:                  t.stdin,
		Prompt:                 Prompt,
		HistoryFile:            s.cfg.HistoryFile,
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
	if key != readline.CharBell || !t.tab.Swap(false) || t.s.cfg.Complete == nil {
		return nil, 0, false
	}
	partial, cands := t.s.cfg.Complete(string(line[:pos]))
	if len(cands) == 0 {
		return nil, 0, false
	}
	insert := commonPrefix(cands)
	if len(cands) == 1 {
		insert += " "
	}
	if len(cands) > 1 && len(insert) <= len(partial) {
		t.list(line, cands)
		return nil, 0, false
	}
	start := pos - len([]rune(partial))
	out := append(append(append([]rune{}, line[:start]...), []rune(insert)...), line[pos:]...)
	return out, start + len([]rune(insert)), true
}

// list shows the continuations under the line being typed, then readline
// redraws the prompt and the line.
func (t *terminal) list(line []rune, cands []Candidate) {
	width, _ := t.size()
	colw := 0
	for _, c := range cands {
		colw = max(colw, len(c.Label)+2)
	}
	perRow := max(1, width/colw)
	var b strings.Builder
	b.WriteString(Prompt + string(line) + "\n")
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
	b.WriteString("\n") // the terminal driver adds the carriage returns
	t.rl.Stdout().Write([]byte(b.String()))
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
		t.interrupt()
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
			t.interrupt()
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

// interrupt aborts the running command, if any (Control-C).
func (t *terminal) interrupt() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cancel != nil {
		t.cancel()
	}
}

// Interrupt aborts the running command, as Control-C does; the process's
// SIGINT handler calls it while a command runs outside line editing.
func (s *Session) Interrupt() {
	if s.term != nil {
		s.term.interrupt()
	}
}

// RunInteractive is the interactive session: banner, prompt, line editing,
// completion, history and paging. It returns how many commands failed.
func (s *Session) RunInteractive(ctx context.Context, tio TermIO) (int, error) {
	t, err := newTerminal(s, tio)
	if err != nil {
		return 0, err
	}
	defer t.close()
	s.term = t
	defer func() { s.term = nil }()
	io.WriteString(s.out, s.cfg.Banner)
	failures := 0
	for ctx.Err() == nil {
		text, err := t.readCommand()
		if errors.Is(err, readline.ErrInterrupt) {
			fmt.Fprintln(s.out, msgControlC)
			continue
		}
		if err != nil {
			break // end of input (Control-D)
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		t.rl.SaveHistory(strings.ReplaceAll(text, "\n", ""))
		cmdCtx, cancel := context.WithCancel(ctx)
		t.mu.Lock()
		t.cancel = cancel
		t.mu.Unlock()
		outcome := s.runOne(cmdCtx, text)
		s.flush(cmdCtx)
		interrupted := cmdCtx.Err() != nil && ctx.Err() == nil
		t.mu.Lock()
		t.cancel = nil
		t.mu.Unlock()
		cancel()
		if interrupted {
			s.buf.Reset()
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
	return text, err
}
