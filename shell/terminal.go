package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"syscall"

	"github.com/chzyer/readline"
	"golang.org/x/term"
)

// terminal is the editor of the process's own terminal: chzyer/readline,
// with a history file. Readline redraws the prompt and the line on every
// key (DESIGN.md says why that is accepted on the local console only).
type terminal struct {
	histFile string
	h        hooks
	rl       *readline.Instance
	stdin    *readline.CancelableStdin

	mode atomic.Int32 // a mode: what Tab, space and q mean
	tab  atomic.Bool  // the last key was Tab, passed to the listener as Bell
	key  atomic.Int32 // the pager key pressed
}

// NewTerminal returns the editor of the process's terminal (standard input
// and output), keeping history in historyFile ("" for none).
func NewTerminal(historyFile string) (Editor, error) {
	t := &terminal{histFile: historyFile}
	if historyFile != "" {
		// readline would create it world-readable; history may hold codes.
		// A symbolic link (O_NOFOLLOW fails) is never followed: no history.
		if f, err := os.OpenFile(historyFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY|syscall.O_NOFOLLOW, 0o600); err == nil {
			f.Close()
		} else {
			historyFile = ""
		}
	}
	t.histFile = historyFile
	// readline wraps its input in a reader whose Close does not reach
	// this one; closing it ourselves is what lets Close return when
	// readline's reader is waiting for a key.
	t.stdin = readline.NewCancelableStdin(os.Stdin)
	rl, err := readline.NewEx(&readline.Config{
		Stdin:                  t.stdin,
		Prompt:                 Prompt,
		HistoryFile:            historyFile,
		HistoryLimit:           historyLimit,
		DisableAutoSaveHistory: true,
		InterruptPrompt:        "",
		EOFPrompt:              "",
		FuncFilterInputRune:    t.filter,
		Listener:               readline.FuncListener(t.onKey),
		FuncGetWidth:           t.width,
	})
	if err != nil {
		t.stdin.Close()
		return nil, fmt.Errorf("cannot start line editing: %w", err)
	}
	t.rl = rl
	return t, nil
}

func (t *terminal) start(h hooks) { t.h = h }

func (t *terminal) close() {
	t.stdin.Close()
	t.rl.Close()
}

func (t *terminal) out() io.Writer { return os.Stdout }
func (t *terminal) flush()         {}
func (t *terminal) prompts() bool  { return true }

func (t *terminal) size() (int, int) {
	w, h, err := term.GetSize(int(os.Stdout.Fd()))
	if err != nil || w <= 0 || h <= 0 {
		return 80, 24
	}
	return w, h
}

func (t *terminal) width() int  { w, _ := t.size(); return w }
func (t *terminal) height() int { _, h := t.size(); return h }

// filter runs in readline's reader for every key.
func (t *terminal) filter(r rune) (rune, bool) {
	switch mode(t.mode.Load()) {
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
	out, newPos, list, repeat := completeAt(t.h, line, pos)
	if list != nil || repeat {
		// Readline clears the line being typed before this is written,
		// then draws the prompt and the line again under it. The
		// terminal driver adds the carriage returns.
		shown := Prompt + string(line) + "\n"
		if list != nil {
			shown += listing(t.width(), list) + "\n"
		}
		t.rl.Stdout().Write([]byte(shown))
		return nil, 0, false
	}
	if out == nil {
		return nil, 0, false
	}
	return out, newPos, true
}

func (t *terminal) readLine(_ context.Context, prompt string, m mode) (string, error) {
	t.mode.Store(int32(m))
	var (
		line string
		err  error
	)
	if m == modeSecret {
		var b []byte
		// One "*" per character, as CUCM echoes a password.
		cfg := t.rl.GenPasswordConfig()
		cfg.Prompt, cfg.MaskRune = prompt, '*'
		b, err = t.rl.ReadPasswordWithConfig(cfg)
		line = string(b)
	} else {
		t.rl.SetPrompt(prompt)
		line, err = t.rl.Readline()
	}
	if errors.Is(err, readline.ErrInterrupt) {
		err = errControlC
	}
	return line, err
}

// pagerKey reads the key as a line of its own: readline echoes the line
// end, so the question is taken away from the line above.
func (t *terminal) pagerKey(ctx context.Context) (int, error) {
	_, err := t.readLine(ctx, pagePrompt, modePager)
	io.WriteString(os.Stdout, "\x1b[1A\r\x1b[K")
	if err != nil {
		return 0, err
	}
	switch t.key.Load() {
	case 'q', 'Q':
		return 0, nil
	case '\r', '\n':
		return 1, nil
	}
	return -1, nil
}

func (t *terminal) history(line string) { t.rl.SaveHistory(line) }
