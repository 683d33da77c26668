package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Editor is how a session reads what is typed and shows what it writes.
// There are three, one per kind of input (DESIGN.md, "Sessions and
// editors"):
//
//   - NewPlain: lines from a stream that is not a terminal (pipes, -c,
//     SSH exec, SSH without a PTY), with or without prompts;
//   - NewTerminal: the process's own terminal, edited by chzyer/readline;
//   - NewRemote: a terminal at the other end of a stream (an SSH channel
//     with a PTY), edited by our own line editor.
//
// The session owns everything else once: the loop, joining a quoted code
// pasted across lines, the pager, questions and Control-C. An Editor is
// built by its constructor and handed to one session, which closes it.
type Editor interface {
	// start gives the editor what it needs of its session.
	start(h hooks)
	// readLine reads one line at prompt. It returns errControlC for
	// Control-C and another error (io.EOF) when input ended.
	readLine(ctx context.Context, prompt string, m mode) (string, error)
	// pagerKey shows the pager's question, waits for its key and takes
	// the question away: 1 for Enter (a line), -1 for space (a page), 0
	// for q; Control-C is errControlC.
	pagerKey(ctx context.Context) (int, error)
	// out is where the session writes; flush sends what out holds.
	out() io.Writer
	flush()
	// height is the terminal's rows, 0 when it is not a terminal: only a
	// terminal pages output and has a person to ask (Interactive).
	height() int
	// prompts: the editor shows the banner and a prompt before each line.
	prompts() bool
	// history records a command for Up and Down.
	history(line string)
	close()
}

// parker is an editor that can wait for the first key of a command line
// without its session's goroutine, whose stack holds the whole session
// (see Session.Start).
type parker interface {
	// park shows the command prompt. It returns false when a key was
	// typed ahead; otherwise resume runs, in a goroutine of its own, once
	// a key can be read or input has ended. Either way resumeLine then
	// reads the line.
	park(prompt string, resume func()) bool
	resumeLine(ctx context.Context) (string, error)
}

// NewChannel is the editor for a session at the other end of a
// connection (an SSH session channel): an exec request reads plain lines
// (with CR and LF translated when a PTY was asked for, since no terminal
// driver sits between us and it), a shell with a PTY gets the remote
// editor, a shell without one plain lines with prompts.
func NewChannel(in io.Reader, out io.Writer, pty, exec bool, size func() (width, height int)) Editor {
	switch {
	case exec && pty:
		return NewPlain(NewCRReader(in), NewCRLFWriter(out), false)
	case pty:
		return NewRemote(in, out, size)
	default:
		return NewPlain(in, out, !exec)
	}
}

// hooks is what an editor may use of its session.
type hooks struct {
	complete  func(line string) (partial string, cands []Candidate)
	isCommand func(line string) bool
	interrupt func()
	maxLine   int
}

// mode is what a line is read for: it decides what Tab, Up and Down do,
// and whether the line is shown.
type mode int

const (
	modeCommand  mode = iota // a command, or a continuation line of one
	modeQuestion             // the answer to a question
	modeSecret               // an answer that is not shown (a password)
	modePager                // a pager key (readline only)
)

// historyLimit bounds the history of every editor that keeps one.
const historyLimit = 500

// ErrInterrupted is returned by a question answered with Control-C. It
// wraps context.Canceled so the command layer treats it as an abort.
var ErrInterrupted = fmt.Errorf("%s: %w", msgControlC, context.Canceled)

// ErrNoAnswer means input ended before a question was answered.
var ErrNoAnswer = errors.New("The question was not answered because the input ended. Nothing was changed.")

// errControlC is what reading a line returns for Control-C.
var errControlC = errors.New(msgControlC)
