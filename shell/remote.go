package shell

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// remote is an interactive session on a remote terminal: an SSH channel
// with a PTY. No terminal driver sits between the session and the client,
// so it edits lines itself. What is typed is echoed exactly as typed, so a
// command (even a long pasted code) reads admin:<command> on one line with
// no redraw sequences in it; only editing keys (backspace in a wrapped
// line, arrows, history, Control-U, Tab) move the cursor with escape
// sequences. Line ends are written "\r\n".
//
// Unlike readline, it reads keys in the session's goroutine from a buffer
// that a reader goroutine fills while a command runs (keyReader), so
// typed-ahead input (what automation clients and pasted lines send) is
// simply the next keys.
type remote struct {
	in   io.Reader
	h    hooks
	keys *keyReader
	w    *termWriter
	size func() (int, int)

	hist  []string
	hIdx  int
	draft []rune

	// The line being edited, and where the client's cursor is.
	prompt []rune
	line   []rune
	pos    int
	nbytes int  // UTF-8 length of line
	mask   bool // a secret: each character typed shows as "*"
	at     int  // the cursor, in cells from the start of the prompt
	pend   bool // the cursor waits past the end of a full row (pending wrap)
	lastCR bool // the last key was CR: a LF right after it is the same Enter
}

// Keys that are not runes.
const (
	kRune = iota
	kEnter
	kUp
	kDown
	kLeft
	kRight
	kHome
	kEnd
	kDelete
	kNone
)

// Control characters the editor handles.
const (
	ctrlA     = 0x01
	ctrlB     = 0x02
	ctrlD     = 0x04
	ctrlE     = 0x05
	ctrlF     = 0x06
	ctrlH     = 0x08
	ctrlK     = 0x0b
	ctrlL     = 0x0c
	ctrlN     = 0x0e
	ctrlP     = 0x10
	ctrlU     = 0x15
	ctrlW     = 0x17
	backspace = 0x7f
)

// NewRemote returns the editor of a terminal at the other end of in and
// out, such as an SSH channel with a PTY; size reports its columns and rows
// (asked each time they matter, so it may follow window changes). in is
// read at the prompt and, while a command runs, by a goroutine of the
// editor; in must end (EOF or an error) when the session ends, as an SSH
// channel does: its owner closes it once the session is over.
func NewRemote(in io.Reader, out io.Writer, size func() (width, height int)) Editor {
	e := &remote{in: in, size: size}
	if e.size == nil {
		e.size = func() (int, int) { return 80, 24 }
	}
	e.w = &termWriter{w: out}
	return e
}

func (e *remote) start(h hooks) {
	e.h = h
	// Keys typed ahead are bounded: a whole command, a little more, and
	// the client waits.
	e.keys = newKeyReader(e.in, h.maxLine+4096, h.interrupt)
}

func (e *remote) close() {
	e.keys.close()
	e.w.Flush()
}

func (e *remote) out() io.Writer { return e.w }
func (e *remote) flush()         { e.w.Flush() }
func (e *remote) prompts() bool  { return true }

func (e *remote) height() int {
	_, h := e.size()
	return max(h, 2)
}

func (e *remote) width() int {
	w, _ := e.size()
	return max(w, 10)
}

func (e *remote) history(line string) {
	if n := len(e.hist); n > 0 && e.hist[n-1] == line {
		return
	}
	if len(e.hist) == historyLimit {
		e.hist = slices.Delete(e.hist, 0, 1)
	}
	e.hist = append(e.hist, line)
}

// readKey returns the next key: a rune, or one of the k constants.
func (e *remote) readKey(ctx context.Context) (rune, int, error) {
	for {
		b, err := e.readByte(ctx)
		if err != nil {
			return 0, 0, err
		}
		wasCR := e.lastCR
		e.lastCR = b == '\r'
		switch {
		case b == '\r':
			return 0, kEnter, nil
		case b == '\n':
			if wasCR {
				continue // CR LF is one Enter
			}
			return 0, kEnter, nil
		case b == keyEsc:
			k, err := e.readEscape(ctx)
			if err != nil || k != kNone {
				return 0, k, err
			}
			continue
		case b < utf8.RuneSelf:
			return rune(b), kRune, nil
		}
		// A multi-byte character: its bytes, until they make a whole
		// one. Invalid bytes are dropped; a byte that cannot continue
		// the character is read again as a key of its own.
		buf := []byte{b}
		for !utf8.FullRune(buf) {
			c, err := e.readByte(ctx)
			if err != nil {
				return 0, 0, err
			}
			if utf8.RuneStart(c) {
				e.keys.unreadByte()
				break
			}
			buf = append(buf, c)
		}
		if r, size := utf8.DecodeRune(buf); r != utf8.RuneError && size == len(buf) {
			return r, kRune, nil
		}
	}
}

// readByte flushes what is to be shown before it waits for input.
func (e *remote) readByte(ctx context.Context) (byte, error) {
	if !e.keys.buffered() {
		if err := e.w.Flush(); err != nil {
			return 0, err
		}
	}
	return e.keys.readByte(ctx)
}

// The final bytes of CSI (ESC [) and SS3 (ESC O) key sequences, and the
// parameters of CSI ... ~.
var (
	finalKeys = map[byte]int{'A': kUp, 'B': kDown, 'C': kRight, 'D': kLeft, 'H': kHome, 'F': kEnd}
	tildeKeys = map[string]int{"1": kHome, "7": kHome, "4": kEnd, "8": kEnd, "3": kDelete}
)

// lookupKey is the key a sequence stands for, or kNone.
func lookupKey[K comparable](keys map[K]int, k K) int {
	if key, ok := keys[k]; ok {
		return key
	}
	return kNone
}

// readEscape reads the rest of an escape sequence (ESC was read): cursor
// and editing keys are recognised, other sequences are dropped whole.
func (e *remote) readEscape(ctx context.Context) (int, error) {
	b, err := e.readByte(ctx)
	if err != nil {
		return 0, err
	}
	switch b {
	case '[':
		var params []byte
		for i := 0; i < 32; i++ {
			c, err := e.readByte(ctx)
			if err != nil {
				return 0, err
			}
			if c >= 0x20 && c <= 0x3f {
				params = append(params, c)
				continue
			}
			if c < 0x40 || c > 0x7e {
				e.keys.unreadByte() // not a sequence after all
				return kNone, nil
			}
			if c == '~' {
				return lookupKey(tildeKeys, string(params)), nil
			}
			return lookupKey(finalKeys, c), nil
		}
		return kNone, nil
	case 'O':
		c, err := e.readByte(ctx)
		if err != nil {
			return 0, err
		}
		return lookupKey(finalKeys, c), nil
	}
	e.keys.unreadByte() // a lone Escape: the key after it counts
	e.lastCR = false
	return kNone, nil
}

// Drawing. The cursor position is kept in cells from the start of the
// prompt (one cell per character); rows follow from the client's width.

func (e *remote) emit(rs []rune) {
	if len(rs) == 0 {
		return
	}
	for _, r := range rs {
		e.w.WriteRune(r)
	}
	e.at += len(rs)
	e.pend = e.at%e.width() == 0
}

// emitLine draws part of the line being typed: a secret as one "*" per
// character, as CUCM echoes a password.
func (e *remote) emitLine(rs []rune) {
	if e.mask {
		rs = []rune(strings.Repeat("*", len(rs)))
	}
	e.emit(rs)
}

func (e *remote) row(cell int, pend bool) int {
	if pend && cell > 0 {
		return (cell - 1) / e.width()
	}
	return cell / e.width()
}

// moveCursor moves to a cell already drawn on the screen.
func (e *remote) moveCursor(to int) {
	w := e.width()
	if to == e.at-1 && !e.pend && e.at%w != 0 {
		e.w.WriteByte('\b')
		e.at = to
		return
	}
	switch d := e.row(to, false) - e.row(e.at, e.pend); {
	case d < 0:
		fmt.Fprintf(e.w, "\x1b[%dA", -d)
	case d > 0:
		fmt.Fprintf(e.w, "\x1b[%dB", d)
	}
	e.w.WriteByte('\r')
	if c := to % w; c > 0 {
		fmt.Fprintf(e.w, "\x1b[%dC", c)
	}
	e.at, e.pend = to, false
}

// setPos moves the cursor to position p of the line.
func (e *remote) setPos(p int) {
	e.pos = p
	t := len(e.prompt) + p
	if t == e.at {
		return
	}
	if p == len(e.line) && p > 0 && t%e.width() == 0 {
		// The end of a full row: only writing the last character puts
		// the cursor where typing goes on.
		e.moveCursor(t - 1)
		e.emitLine(e.line[p-1:])
		return
	}
	e.moveCursor(t)
}

// refresh draws the prompt and the line again and puts the cursor back.
func (e *remote) refresh() {
	e.moveCursor(0)
	e.w.WriteString("\x1b[J")
	e.emit(e.prompt)
	e.emitLine(e.line)
	e.setPos(e.pos)
}

// setLine replaces the line (history, completion) and shows it.
func (e *remote) setLine(rs []rune, pos int) {
	e.line = append(e.line[:0], rs...)
	e.nbytes = 0
	for _, r := range rs {
		e.nbytes += utf8.RuneLen(r)
	}
	e.pos = pos
	e.refresh()
}

func (e *remote) insert(r rune) {
	n := utf8.RuneLen(r)
	if e.nbytes+n > e.h.maxLine+1 {
		return // the line is cut here; the command layer refuses it
	}
	e.nbytes += n
	if e.pos == len(e.line) {
		e.line = append(e.line, r)
		e.pos++
		e.emitLine(e.line[e.pos-1:])
		return
	}
	e.line = slices.Insert(e.line, e.pos, r)
	e.pos++
	e.refresh()
}

// cut removes line[from:to] and leaves the cursor at from.
func (e *remote) cut(from, to int) {
	if from >= to {
		return
	}
	for _, r := range e.line[from:to] {
		e.nbytes -= utf8.RuneLen(r)
	}
	atEnd := to == len(e.line)
	e.line = slices.Delete(e.line, from, to)
	e.pos = from
	w := e.width()
	if atEnd && to-from == 1 && !e.pend && e.at%w != 0 && e.at == len(e.prompt)+to {
		e.w.WriteString("\b \b")
		e.at--
		return
	}
	e.refresh()
}

// readLine reads one line at prompt. It returns errControlC for
// Control-C and io.EOF for Control-D on an empty line or the end of input.
func (e *remote) readLine(ctx context.Context, prompt string, m mode) (string, error) {
	e.beginLine(prompt, m)
	return e.editLine(ctx, m)
}

// park shows the command prompt and, unless a key was typed ahead, waits
// for the first key in a goroutine of its own (see parker).
func (e *remote) park(prompt string, resume func()) bool {
	e.beginLine(prompt, modeCommand)
	if e.keys.buffered() {
		return false
	}
	e.w.Flush() // a failure shows as the end of input
	e.keys.whenKey(resume)
	return true
}

func (e *remote) resumeLine(ctx context.Context) (string, error) {
	return e.editLine(ctx, modeCommand)
}

// beginLine starts reading a line at prompt: it shows the prompt.
func (e *remote) beginLine(prompt string, m mode) {
	e.keys.setReading(true, m == modeCommand)
	e.prompt = []rune(prompt)
	if cap(e.line) > 4096 {
		e.line = nil // do not keep a pasted code's worth of memory
	}
	e.line, e.pos, e.nbytes = e.line[:0], 0, 0
	e.at, e.pend, e.mask = 0, false, false
	e.hIdx, e.draft = len(e.hist), nil
	e.emit(e.prompt)
	e.mask = m == modeSecret
}

// editLine reads the keys of the line beginLine began.
func (e *remote) editLine(ctx context.Context, m mode) (string, error) {
	defer e.keys.setReading(false, false)
	defer func() { e.mask = false }()
	for {
		r, k, err := e.readKey(ctx)
		if err != nil {
			return "", err
		}
		switch k {
		case kEnter:
			e.setPos(len(e.line))
			if m == modeCommand && len(e.line) == 0 {
				// A bare Enter: "\r\n\r" before the next prompt, as
				// Cisco's VOS mock device records it.
				e.w.WriteString("\n\r")
				return "", nil
			}
			e.w.WriteString("\n")
			return string(e.line), nil
		case kUp:
			r = ctrlP
		case kDown:
			r = ctrlN
		case kLeft:
			r = ctrlB
		case kRight:
			r = ctrlF
		case kHome:
			r = ctrlA
		case kEnd:
			r = ctrlE
		case kDelete:
			e.cut(e.pos, min(e.pos+1, len(e.line)))
			continue
		case kNone:
			continue
		}
		switch r {
		case keyCtrlC:
			e.setPos(len(e.line))
			e.w.WriteString("\n")
			return "", errControlC
		case ctrlD:
			if len(e.line) == 0 {
				e.w.WriteString("\n")
				return "", io.EOF
			}
			e.cut(e.pos, min(e.pos+1, len(e.line)))
		case '\t':
			if m == modeCommand {
				e.complete()
			}
		case backspace, ctrlH:
			e.cut(max(e.pos-1, 0), e.pos)
		case ctrlU:
			e.cut(0, e.pos)
		case ctrlK:
			e.cut(e.pos, len(e.line))
		case ctrlW:
			p := e.pos
			for p > 0 && e.line[p-1] == ' ' {
				p--
			}
			for p > 0 && e.line[p-1] != ' ' {
				p--
			}
			e.cut(p, e.pos)
		case ctrlA:
			e.setPos(0)
		case ctrlE:
			e.setPos(len(e.line))
		case ctrlB:
			e.setPos(max(e.pos-1, 0))
		case ctrlF:
			e.setPos(min(e.pos+1, len(e.line)))
		case ctrlL:
			e.w.WriteString("\x1b[H\x1b[2J")
			e.at, e.pend = 0, false
			e.emit(e.prompt)
			e.emitLine(e.line)
			e.setPos(e.pos)
		case ctrlP:
			if m == modeCommand && e.hIdx > 0 {
				if e.hIdx == len(e.hist) {
					e.draft = slices.Clone(e.line)
				}
				e.hIdx--
				h := []rune(e.hist[e.hIdx])
				e.setLine(h, len(h))
			}
		case ctrlN:
			if m == modeCommand && e.hIdx < len(e.hist) {
				e.hIdx++
				h := e.draft
				if e.hIdx < len(e.hist) {
					h = []rune(e.hist[e.hIdx])
				}
				e.setLine(h, len(h))
			}
		default:
			if printable(r) {
				e.insert(r)
			}
		}
	}
}

// printable reports whether r may be typed into a line: no control
// characters (C0, DEL, C1), so nothing raw is ever echoed.
func printable(r rune) bool {
	return r >= 0x20 && r != 0x7f && (r < 0x80 || r >= 0xa0)
}

// complete is Tab: it completes the word before the cursor, or lists the
// continuations under the line and shows the line again; on a complete
// command it shows the line again on a new row.
func (e *remote) complete() {
	line, pos, list, repeat := completeAt(e.h, e.line, e.pos)
	switch {
	case list != nil || repeat:
		e.setPos(len(e.line))
		e.w.WriteString("\n")
		if list != nil {
			e.w.WriteString(listing(e.width(), list) + "\n")
		}
		e.at, e.pend = 0, false
		e.emit(e.prompt)
		e.emitLine(e.line)
		e.setPos(e.pos)
	case line == nil:
	case e.pos == len(e.line) && pos == len(line) && slices.Equal(line[:e.pos], e.line):
		// Typing on at the end: show just what was added.
		for _, r := range line[e.pos:] {
			e.insert(r)
		}
	default:
		e.setLine(line, pos)
	}
}

// pageErase takes the pager's question away with spaces, not an erase
// escape: clients that strip escape sequences (paramiko-expect) would
// otherwise lose the first character of the next line.
var pageErase = "\r" + strings.Repeat(" ", len(pageText)) + "\r"

// pagerKey shows the pager's question and waits for its key: it returns
// 1 for Enter (one line), -1 for space (a page) and 0 for q (quit);
// Control-C is an error. The question is taken away again.
func (e *remote) pagerKey(ctx context.Context) (int, error) {
	e.keys.setReading(true, false)
	defer e.keys.setReading(false, false)
	e.w.WriteString(pagePrompt)
	defer e.w.WriteString(pageErase)
	for {
		r, k, err := e.readKey(ctx)
		switch {
		case err != nil:
			return 0, err
		case k == kEnter:
			return 1, nil
		case k != kRune:
		case r == ' ':
			return -1, nil
		case r == 'q' || r == 'Q':
			return 0, nil
		case r == keyCtrlC:
			return 0, errControlC
		}
	}
}
