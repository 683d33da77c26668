// Package shell is one CLI session: banner, prompt, reading lines
// (readline on a terminal, plain lines otherwise), paging, Control-C,
// questions and passwords. It knows nothing about licensing: it hands each
// command line to Config.Run.
package shell

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
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
	term       *terminal // nil when not interactive
	lines      *lineReader
	buf        bytes.Buffer // an interactive command's output, to page
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
	// A script answers on its next line; the question is part of the
	// command's output.
	fmt.Fprintln(s.out, prompt)
	if s.lines == nil {
		return "", ErrNoAnswer
	}
	line, err := s.lines.next()
	if err != nil {
		return "", ErrNoAnswer
	}
	return line, nil
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
		switch s.runOne(ctx, text) {
		case Failed:
			failures++
		case Quit:
			return failures
		}
	}
}

// RunCommand runs a single command (ucmsh -c) and reports whether it
// succeeded.
func (s *Session) RunCommand(ctx context.Context, line string) bool {
	return s.runOne(ctx, line) != Failed
}

func (s *Session) runOne(ctx context.Context, line string) Outcome {
	s.commands++
	return s.cfg.Run(ctx, s, line)
}
