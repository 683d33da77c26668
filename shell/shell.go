// Package shell is one CLI session: banner, prompt, reading lines through
// an Editor (plain lines, the local terminal, or a remote terminal such as
// an SSH channel with a PTY), paging, Control-C, questions and passwords.
// It knows nothing about licensing: it hands each command line to
// Config.Run.
package shell

import (
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
	pageText    = "Press <enter> for 1 line, <space> for one page, or <q> to quit"
	pagePrompt  = "\x1b[1m" + pageText + "\x1b[0m\x1b[K"
)

// Outcome is how a command ended. The command layer uses this type itself.
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

// Config wires a session to its editor and to the command layer.
type Config struct {
	// Editor reads the input and shows the output (NewPlain,
	// NewTerminal, NewRemote); the session closes it when it ends.
	Editor Editor
	// Banner is printed before the first prompt when the editor prompts.
	Banner string
	// Echo prints "admin:<command>" before each command's output, for
	// transcripts of scripts.
	Echo bool
	// User is the account name (show myself).
	User string
	// Privilege is the account's level (0, 1 or 4); the local console's
	// is 4. Zero, the least, is the default.
	Privilege int
	// Err, when set, is where a failed command's sentences go (standard
	// error of -c, a piped script, an SSH exec request), so that
	// CODE=$(ucmsh -c ...) never captures an error as a code. When nil
	// they go with the output, as on CUCM's terminal.
	Err io.Writer
	// MaxLine bounds one command; longer ones reach Run cut to MaxLine+1
	// bytes so it can reject them.
	MaxLine int

	Run      func(ctx context.Context, s *Session, line string) Outcome
	Complete func(line string) (partial string, cands []Candidate)
	// IsCommand reports whether a line is a complete command: Tab on it
	// shows the line again on a new row, as CUCM does.
	IsCommand func(line string) bool
	OpenQuote func(text string) bool
	// EchoLine is what Echo shows of a line (safe to print).
	EchoLine func(line string) string
}

// Session is one CLI session. It implements what command handlers may ask
// of their terminal. It runs once: Run, Start or RunLine.
type Session struct {
	cfg        Config
	ed         Editor
	pagination bool
	commands   int
	failures   int           // commands that failed
	parked     bool          // waiting for the first key of a command (Start)
	buf        *bytes.Buffer // a command's output on a terminal, to page (from pageBufs)

	mu     sync.Mutex
	cancel context.CancelFunc // of the running command
}

// New creates a session. Pagination starts on, as on CUCM; it only ever
// applies to a terminal.
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
	if cfg.EchoLine == nil {
		cfg.EchoLine = func(s string) string { return s }
	}
	if cfg.Editor == nil {
		cfg.Editor = NewPlain(nil, io.Discard, false)
	}
	s := &Session{cfg: cfg, ed: cfg.Editor, pagination: true}
	s.ed.start(hooks{complete: cfg.Complete, isCommand: cfg.IsCommand, interrupt: s.Interrupt, maxLine: cfg.MaxLine})
	return s
}

// Write is where command output goes. On a terminal it is held until the
// command ends (or asks a question) so it can be paged.
func (s *Session) Write(p []byte) (int, error) {
	if s.ed.height() > 0 {
		if s.buf == nil {
			s.buf = pageBufs.Get().(*bytes.Buffer)
		}
		return s.buf.Write(p)
	}
	return s.ed.out().Write(p)
}

// Errors is where a failed command writes its sentences: Config.Err
// after what the command printed so far, else the output.
func (s *Session) Errors() io.Writer {
	if s.cfg.Err == nil {
		return s
	}
	return errWriter{s}
}

type errWriter struct{ s *Session }

func (e errWriter) Write(p []byte) (int, error) {
	e.s.ed.flush() // the output so far comes first where both streams meet
	return e.s.cfg.Err.Write(p)
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

// Interactive reports whether a person at a terminal can answer questions
// (a host-key prompt, say); scripts and exec sessions cannot.
func (s *Session) Interactive() bool { return s.ed.height() > 0 }

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
	return s.ask(ctx, prompt, modeQuestion)
}

// ReadSecret asks for one line of input without echoing it.
func (s *Session) ReadSecret(ctx context.Context, prompt string) (string, error) {
	return s.ask(ctx, prompt, modeSecret)
}

func (s *Session) ask(ctx context.Context, prompt string, m mode) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	s.flush(ctx) // what the command printed comes before its question
	line, err := s.ed.readLine(ctx, prompt, m)
	switch {
	case errors.Is(err, errControlC):
		s.Interrupt()
		return "", ErrInterrupted
	case err != nil:
		return "", ErrNoAnswer
	}
	return line, ctx.Err()
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

// Run is the session: the banner (when the editor prompts), then each
// command read until input ends or quit. It returns how many commands
// failed.
func (s *Session) Run(ctx context.Context) (failures int) {
	defer s.ed.close()
	s.banner()
	s.loop(ctx, nil, nil)
	return s.failures
}

// Start runs the session as Exit does, in the caller's goroutine until
// the session first waits at the command prompt with nothing typed
// ahead, and then returns: an editor that can (the remote one) waits for
// the first key of each command in a goroutine with a small stack, which
// then runs the session on. An idle session so holds no goroutine that
// grew to run its commands. done gets the exit status when the session
// has ended; with other editors that is before Start returns.
func (s *Session) Start(ctx context.Context, done func(status int)) {
	p, ok := s.ed.(parker)
	if !ok {
		done(s.Exit(ctx))
		return
	}
	interactive := s.Interactive()
	s.banner()
	var step func()
	step = func() {
		if s.loop(ctx, p, step) {
			return // parked: step runs again once a key came
		}
		s.ed.close()
		done(exitStatus(s.failures, interactive))
	}
	step()
}

func (s *Session) banner() {
	if s.ed.prompts() {
		io.WriteString(s.ed.out(), s.cfg.Banner)
	}
	s.cfg.Banner = "" // shown once: an idle session need not keep it
}

// loop reads and runs commands until input ends or quit. With p, it
// parks at each empty command prompt instead of waiting there and
// returns true; resume is what runs when a key came, and it calls loop
// again to go on with that line.
func (s *Session) loop(ctx context.Context, p parker, resume func()) (parked bool) {
	for ctx.Err() == nil {
		var text string
		var err error
		switch {
		case s.parked:
			s.parked = false
			text, err = p.resumeLine(ctx)
		case p != nil:
			// Set before park: resume may run before park returns.
			s.parked = true
			if p.park(Prompt, resume) {
				return true
			}
			s.parked = false
			text, err = p.resumeLine(ctx)
		default:
			text, err = s.ed.readLine(ctx, Prompt, modeCommand)
		}
		text, err = s.joinQuoted(ctx, text, err)
		if errors.Is(err, errControlC) {
			fmt.Fprintln(s.ed.out(), msgControlC)
			continue
		}
		if err != nil && strings.TrimSpace(text) == "" {
			return false // end of input (Control-D)
		}
		if strings.TrimSpace(text) != "" {
			switch s.run(ctx, text) {
			case Failed:
				s.failures++
			case Quit:
				return false
			}
		}
		if err != nil {
			return false // input ended inside a quote: that was the last
		}
	}
	return false
}

// RunLine runs a single command (ucmsh -c, an SSH exec request) and
// reports whether it succeeded. Its questions read the editor's lines.
func (s *Session) RunLine(ctx context.Context, line string) bool {
	defer s.ed.close()
	return s.run(ctx, line) != Failed
}

// Exit runs the session and returns its exit status: 0 when a person
// left an interactive session, whatever was typed (failures only set the
// status of scripts); otherwise 1 when any command failed.
func (s *Session) Exit(ctx context.Context) int {
	interactive := s.Interactive()
	return exitStatus(s.Run(ctx), interactive)
}

func exitStatus(failures int, interactive bool) int {
	if failures > 0 && !interactive {
		return 1
	}
	return 0
}

// ExitLine runs one command (-c, an SSH exec request) and returns its exit
// status: 0 when it succeeded, else 1.
func (s *Session) ExitLine(ctx context.Context, line string) int {
	if !s.RunLine(ctx, line) {
		return 1
	}
	return 0
}

// joinQuoted reads continuation lines while text (a command line just
// read, with err) has a quote open: an authorization code pasted across
// several lines. When input ends inside a quote it returns what it read
// with the error, for the command layer to refuse the open quote.
func (s *Session) joinQuoted(ctx context.Context, text string, err error) (string, error) {
	for err == nil && s.cfg.OpenQuote(text) && len(text) <= s.cfg.MaxLine {
		var more string
		if more, err = s.ed.readLine(ctx, "", modeCommand); errors.Is(err, errControlC) {
			return "", err
		}
		if err == nil {
			text += "\n" + more
		}
	}
	return text, err
}

// run runs one command line: the transcript line, history, the command,
// and, in a shell with prompts, Control-C pressed if it was interrupted.
func (s *Session) run(ctx context.Context, text string) Outcome {
	if s.cfg.Echo {
		fmt.Fprintf(s.ed.out(), "%s%s\n", Prompt, s.cfg.EchoLine(text))
	}
	s.ed.history(strings.ReplaceAll(text, "\n", ""))
	out, interrupted := s.runOne(ctx, text)
	if interrupted && s.ed.prompts() {
		fmt.Fprintln(s.ed.out(), msgControlC)
	}
	return out
}

// runOne runs a command that Interrupt can abort; on a terminal its output
// is then paged. It reports whether the command was interrupted.
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
		s.release() // what an interrupted command printed is not shown
	} else {
		s.flush(cmdCtx) // Control-C at the pager interrupts too
	}
	s.mu.Lock()
	s.cancel = nil
	s.mu.Unlock()
	return out, interrupted()
}

// Flush shows at once what the running command has printed so far, for a
// command that then waits (utils service list prints its first line
// before Service Manager answers).
func (s *Session) Flush() {
	s.flush(context.Background())
	s.ed.flush()
}

// flush writes a command's output held for paging, paged when pagination
// is on and it is longer than the terminal.
func (s *Session) flush(ctx context.Context) {
	if s.buf == nil || s.buf.Len() == 0 {
		return
	}
	out := s.buf.String()
	s.release()
	if !s.pagination {
		io.WriteString(s.ed.out(), out)
		return
	}
	s.page(ctx, out)
}

// pageBufs hold commands' output while it waits to be paged; a session
// holds one only while a command runs.
var pageBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// release gives the paging buffer back, so that a session idle at the
// prompt holds none; a long report's is let go.
func (s *Session) release() {
	if s.buf == nil {
		return
	}
	if s.buf.Cap() <= 64<<10 {
		s.buf.Reset()
		pageBufs.Put(s.buf)
	}
	s.buf = nil
}

// page writes out a screen at a time, asking between screens; the window
// may change size in between.
func (s *Session) page(ctx context.Context, out string) {
	lines := strings.SplitAfter(out, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	w := s.ed.out()
	screen := func() int { return max(1, s.ed.height()-1) }
	end := min(screen(), len(lines))
	io.WriteString(w, strings.Join(lines[:end], ""))
	for end < len(lines) && ctx.Err() == nil {
		n, err := s.ed.pagerKey(ctx)
		if err != nil {
			s.Interrupt()
			return
		}
		if n == 0 {
			return
		}
		if n < 0 {
			n = screen()
		}
		next := min(end+n, len(lines))
		io.WriteString(w, strings.Join(lines[end:next], ""))
		end = next
	}
}
