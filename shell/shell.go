// Package shell is one CLI session: banner, prompt, reading lines
// (readline on the local terminal, a line editor of its own on a remote
// terminal such as an SSH channel with a PTY, plain lines otherwise),
// paging, Control-C, questions and passwords. It knows nothing about licensing: it hands each
// command line to Config.Run.
package shell

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Prompt is the CLI prompt, the same whatever the login name.
const Prompt = "admin:"

// Messages of the shell.
const (
	msgControlC = "Control-C pressed"
	pagePrompt  = "\x1b[1mPress <enter> for 1 line, <space> for one page, or <q> to quit\x1b[0m\x1b[K"
)

// Outcome is how a command ended.
type Outcome int

// The outcomes Config.Run reports.
const (
	OK Outcome = iota
	Failed
	Quit
)

// Candidate is a completion offered for Tab.
type Candidate struct {
	Word  string // inserted
	Label string // listed
}

// Config wires a session to its streams and to the command layer.
type Config struct {
	In  io.Reader
	Out io.Writer
	// Banner is printed before the first prompt of an interactive session.
	Banner string
	// Echo prints "admin:<command>" before each command's output when
	// reading a script, for transcripts.
	Echo bool
	// User is the account name (show myself).
	User string
	// Privilege is the account's level (0, 1 or 4); the local console's
	// is 4. Zero, the least, is the default.
	Privilege int
	// HistoryFile keeps interactive history across sessions ("" for none).
	HistoryFile string
	// MaxLine bounds one command; longer ones reach Run cut to MaxLine+1
	// bytes so it can reject them.
	MaxLine int

	Run       func(ctx context.Context, s *Session, line string) Outcome
	Complete  func(line string) (partial string, cands []Candidate)
	OpenQuote func(text string) bool
	// Sanitize makes a line safe to echo.
	Sanitize func(line string) string
}

// Session is one CLI session. It implements what command handlers may ask
// of their terminal.
type Session struct {
	cfg        Config
	pagination bool
	commands   int
	out        io.Writer
	term       console // nil when not interactive
	lines      *lineReader
	prompted   bool         // a plain stream with prompts (RunShell)
	buf        bytes.Buffer // an interactive command's output, to page

	mu     sync.Mutex
	cancel context.CancelFunc // of the running command
}

// New creates a session. Pagination starts on, as on CUCM; it only ever
// applies to an interactive terminal.
func New(cfg Config) *Session {
	if cfg.MaxLine <= 0 {
		cfg.MaxLine = 64 << 10
	}
	if cfg.User == "" {
		cfg.User = "admin"
	}
	if cfg.OpenQuote == nil {
		cfg.OpenQuote = func(string) bool { return false }
	}
	if cfg.Sanitize == nil {
		cfg.Sanitize = func(s string) string { return s }
	}
	return &Session{cfg: cfg, pagination: true, out: cfg.Out}
}

// Write is where command output goes. In an interactive session it is
// held until the command ends (or asks a question) so it can be paged.
func (s *Session) Write(p []byte) (int, error) {
	if s.term != nil {
		return s.buf.Write(p)
	}
	return s.out.Write(p)
}

// Pagination reports whether long output is paged.
func (s *Session) Pagination() bool { return s.pagination }

// SetPagination turns paging on or off for this session.
func (s *Session) SetPagination(on bool) { s.pagination = on }

// CommandCount is how many commands this session has run.
func (s *Session) CommandCount() int { return s.commands }

// User is the account name.
func (s *Session) User() string { return s.cfg.User }

// Privilege is the account's privilege level.
func (s *Session) Privilege() int { return s.cfg.Privilege }

// ErrNoAnswer means input ended before a question was answered.
var ErrNoAnswer = errors.New("The question was not answered because the input ended. Nothing was changed.")

// Confirm asks a yes/no question, e.g. "Continue (y/n)?", until it gets
// y, yes, n or no in any case.
func (s *Session) Confirm(ctx context.Context, prompt string) (bool, error) {
	for {
		ans, err := s.Prompt(ctx, prompt)
		if err != nil {
			return false, err
		}
		switch strings.ToLower(strings.TrimSpace(ans)) {
		case "y", "yes":
			return true, nil
		case "n", "no":
			return false, nil
		}
	}
}

// Prompt asks for one line of input.
func (s *Session) Prompt(ctx context.Context, prompt string) (string, error) {
	return s.ask(ctx, prompt, false)
}

// ReadSecret asks for one line of input without echoing it.
func (s *Session) ReadSecret(ctx context.Context, prompt string) (string, error) {
	return s.ask(ctx, prompt, true)
}

func (s *Session) ask(ctx context.Context, prompt string, secret bool) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if s.term != nil {
		s.flush(ctx)
		return s.term.ask(ctx, prompt, secret)
	}
	if s.prompted {
		// A shell without a terminal: the question, then the answer's
		// line, which the client does not see echoed.
		io.WriteString(s.out, prompt)
	} else {
		// A script answers on its next line; the question is part of
		// the command's output.
		fmt.Fprintln(s.out, prompt)
	}
	s.flushOut()
	if s.lines == nil {
		return "", ErrNoAnswer
	}
	line, err := s.lines.next()
	if s.prompted {
		io.WriteString(s.out, "\n")
	}
	if err != nil {
		return "", ErrNoAnswer
	}
	if s.prompted && strings.ContainsRune(line, '\x03') {
		s.Interrupt()
		return "", ErrInterrupted
	}
	return line, nil
}

// flushOut sends buffered output on (a remote client's stream).
func (s *Session) flushOut() {
	if f, ok := s.out.(interface{ Flush() error }); ok {
		f.Flush()
	}
}

// Interrupt aborts the running command, if any, as Control-C does. It may
// be called from any goroutine: the process's SIGINT handler, or an SSH
// "signal" request.
func (s *Session) Interrupt() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		s.cancel()
	}
}

// Flush shows at once what the running command has printed so far, for a
// command that then waits (utils service list prints its first line
// before Service Manager answers).
func (s *Session) Flush() {
	s.flush(context.Background())
	s.flushOut()
}

// flush writes an interactive command's output, paged when it is longer
// than the terminal.
func (s *Session) flush(ctx context.Context) {
	if s.term == nil || s.buf.Len() == 0 {
		return
	}
	out := s.buf.String()
	s.buf.Reset()
	if !s.pagination {
		io.WriteString(s.out, out)
		return
	}
	s.term.page(ctx, out)
}

// RunScript runs every command from a plain (non-terminal) input and
// returns how many failed. Only the commands' output is printed.
func (s *Session) RunScript(ctx context.Context) (failures int) {
	s.lines = newLineReader(s.cfg.In, s.cfg.MaxLine)
	for {
		text, err := s.lines.next()
		if err != nil {
			return failures
		}
		for s.cfg.OpenQuote(text) && len(text) <= s.cfg.MaxLine {
			more, err := s.lines.next()
			if err != nil {
				break // the command layer reports the open quote
			}
			text += "\n" + more
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		if s.cfg.Echo {
			fmt.Fprintf(s.out, "%s%s\n", Prompt, s.cfg.Sanitize(strings.ReplaceAll(text, "\n", "")))
		}
		switch out, _ := s.runOne(ctx, text); out {
		case Failed:
			failures++
		case Quit:
			return failures
		}
	}
}

// RunCommand runs a single command (ucmsh -c) and reports whether it
// succeeded. Questions get no answer.
func (s *Session) RunCommand(ctx context.Context, line string) bool {
	out, _ := s.runOne(ctx, line)
	return out != Failed
}

// RunExec runs a single command whose questions are answered by the lines
// of Config.In (an SSH exec request), and reports whether it succeeded.
// Output is buffered and flushed at the end and before each question.
func (s *Session) RunExec(ctx context.Context, line string) bool {
	bw := bufio.NewWriterSize(s.cfg.Out, 4096)
	s.out = bw
	s.lines = newLineReader(s.cfg.In, s.cfg.MaxLine)
	defer func() {
		bw.Flush()
		s.out, s.lines = s.cfg.Out, nil
	}()
	out, _ := s.runOne(ctx, line)
	return out != Failed
}

// RunShell is a shell session on a plain stream that is not a terminal,
// such as an SSH shell session without a PTY: the banner, then the prompt
// before each line read, which is not echoed (a line end follows the
// prompt instead, so each command's output starts on a line of its own);
// no paging. A line holding a Control-C is dropped. Quotes may span
// lines. It returns how many commands failed.
func (s *Session) RunShell(ctx context.Context) (failures int) {
	bw := bufio.NewWriterSize(s.cfg.Out, 4096)
	s.out, s.prompted = bw, true
	s.lines = newLineReader(s.cfg.In, s.cfg.MaxLine)
	defer func() {
		bw.Flush()
		s.out, s.prompted, s.lines = s.cfg.Out, false, nil
	}()
	io.WriteString(s.out, s.cfg.Banner)
	for ctx.Err() == nil {
		io.WriteString(s.out, Prompt)
		s.flushOut()
		text, err := s.lines.next()
		for err == nil && s.cfg.OpenQuote(text) && len(text) <= s.cfg.MaxLine {
			var more string
			if more, err = s.lines.next(); err == nil {
				text += "\n" + more
			}
		}
		io.WriteString(s.out, "\n")
		if err != nil {
			return failures
		}
		if strings.ContainsRune(text, '\x03') {
			fmt.Fprintln(s.out, msgControlC)
			continue
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		out, interrupted := s.runOne(ctx, text)
		if interrupted {
			fmt.Fprintln(s.out, msgControlC)
		}
		switch out {
		case Failed:
			failures++
		case Quit:
			return failures
		}
	}
	return failures
}

// runOne runs a command that Interrupt can abort; in an interactive
// session its output is then paged. It reports whether the command was
// interrupted.
func (s *Session) runOne(ctx context.Context, line string) (Outcome, bool) {
	s.commands++
	cmdCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.mu.Lock()
	s.cancel = cancel
	s.mu.Unlock()
	out := s.cfg.Run(cmdCtx, s, line)
	interrupted := func() bool { return cmdCtx.Err() != nil && ctx.Err() == nil }
	if interrupted() {
		s.buf.Reset() // what an interrupted command printed is not shown
	} else {
		s.flush(cmdCtx) // Control-C at the pager interrupts too
	}
	s.mu.Lock()
	s.cancel = nil
	s.mu.Unlock()
	return out, interrupted()
}

// Listing lays out completion candidates in columns for a terminal of
// the given width, as Tab lists them (without a final line end); the
// command layer uses it for "?".
func Listing(width int, cands []Candidate) string { return listing(width, cands) }
