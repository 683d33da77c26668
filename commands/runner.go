package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ucmsh/ucmsh/publisher"
	"github.com/ucmsh/ucmsh/shell"
)

// Terminal is what a handler may ask of the session it runs in. The shell
// implements it; handlers never touch stdin or stdout directly.
type Terminal interface {
	io.Writer
	Pagination() bool
	SetPagination(on bool)
	CommandCount() int
	User() string
	// Confirm asks a yes/no question such as "Continue (y/n)?".
	Confirm(ctx context.Context, prompt string) (bool, error)
	// Prompt reads one line; ReadSecret reads one without echo.
	Prompt(ctx context.Context, prompt string) (string, error)
	ReadSecret(ctx context.Context, prompt string) (string, error)
	// Interactive reports whether a person can answer questions.
	Interactive() bool
}

// Outcome is how a command ended: the shell's type itself, so the two
// layers cannot disagree on what a value means.
type Outcome = shell.Outcome

// The outcomes of Execute.
const (
	OK     = shell.OK
	Failed = shell.Failed
	Quit   = shell.Quit
)

// Role is the node's role in its cluster.
type Role string

// The two roles of a CUCM node.
const (
	Publisher  Role = "publisher"
	Subscriber Role = "subscriber"
)

// Runner executes command lines against the tree.
type Runner struct {
	Role    Role
	Profile *publisher.Profile
	// Service is the licensing service; nil on a subscriber.
	Service *publisher.Service
	// ServiceErr, when set, is why the service cannot run (e.g. an
	// unreadable state file); licensing commands print it and fail.
	ServiceErr error
	// JSON makes reports print their model as JSON (for scripts).
	JSON bool
	// Audit, when set, is told of every command run that may change the
	// node's licensing state (the license tree): its words without the
	// arguments (tokens, codes), and whether it succeeded.
	Audit func(path string, ok bool)

	root *Command
}

// NewRunner returns a runner over the command tree.
func NewRunner(role Role, profile *publisher.Profile, svc *publisher.Service) *Runner {
	return &Runner{Role: role, Profile: profile, Service: svc, root: Tree}
}

var errQuit = errors.New("quit")

// Execute runs one command line and prints its output, or its error and
// "Executed command unsuccessfully", to t.
func (r *Runner) Execute(ctx context.Context, t Terminal, line string) (out Outcome) {
	var cmd *Command
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(t, "Internal error: %v. Nothing was changed; please report this.\n%s\n", p, msgFailed)
			out = Failed
		}
		if r.Audit != nil && cmd != nil && cmd.changesState() {
			r.Audit(cmd.Path(), out != Failed)
		}
	}()
	err := r.execute(ctx, t, line, &cmd)
	switch {
	case err == nil:
		return OK
	case errors.Is(err, errQuit):
		return Quit
	case errors.Is(err, context.Canceled):
		return Failed // Control-C: the shell says so
	}
	msg := sanitizeLines(err.Error()) // errors quote codes, files and servers
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	io.WriteString(t, msg+msgFailed+"\n")
	return Failed
}

// execute runs line; *cmd is set to the command it resolves to, so that
// even a panic of its handler is audited.
func (r *Runner) execute(ctx context.Context, t Terminal, line string, cmd **Command) error {
	toks, err := Tokenize(line)
	if err != nil {
		return err
	}
	if len(toks) == 0 {
		return nil
	}
	if last := toks[len(toks)-1]; last.Text == "?" && !last.Quoted {
		return r.syntaxHelp(t, toks[:len(toks)-1])
	}
	call, err := r.resolve(toks)
	if err != nil {
		return err
	}
	c := call.Command
	*cmd = c
	if c.Licensing {
		if r.Role == Subscriber {
			return nil // the Smart License Manager does not run here
		}
		if r.ServiceErr != nil {
			return r.ServiceErr
		}
		// Renewals that fell due run before the command, as the agent's
		// timers would have; their failures are recorded, not fatal.
		// Reports run them themselves (Service.ReportDue), to need one
		// store transaction instead of two.
		if !c.OwnTimers {
			if err := r.Service.RunDue(ctx); err != nil {
				return err
			}
		}
	}
	call.Term = t
	call.JSON = r.JSON
	return c.Run(r, ctx, call)
}

// walk follows the tokens down the tree as far as they name commands; it
// returns the deepest node and the index of the first token left over.
func (r *Runner) walk(toks []Token) (*Command, int) {
	n := r.root
	for i, tk := range toks {
		c := (*Command)(nil)
		if !tk.Quoted {
			c = n.child(tk.Text)
		}
		if c == nil {
			return n, i
		}
		n = c
	}
	return n, len(toks)
}

// resolve finds the command and binds its arguments.
func (r *Runner) resolve(toks []Token) (*Call, error) {
	n, i := r.walk(toks)
	if n.Run == nil {
		if i < len(toks) {
			return nil, errUnknownWord(toks[i].Text, n.Path())
		}
		return nil, errIncomplete(n)
	}
	call := &Call{Command: n, values: map[*Arg]string{}}
	rest := toks[i:]
	for _, a := range n.Args {
		switch {
		case a.Rest:
			for _, t := range rest {
				call.words = append(call.words, t.Text)
			}
			rest = nil
		case len(rest) == 0:
			if !a.Optional {
				return nil, errMissingArg(n, a)
			}
		case a.Literal:
			if !strings.EqualFold(rest[0].Text, a.Name) || rest[0].Quoted {
				return nil, errExtraArg(n)
			}
			call.values[a] = a.Name
			rest = rest[1:]
		default:
			call.values[a] = rest[0].Text
			rest = rest[1:]
		}
	}
	if len(rest) > 0 {
		return nil, errExtraArg(n)
	}
	return call, nil
}

// syntaxHelp answers "<command> ?". Words after a runnable command are its
// arguments, so "register idtoken abc ?" still explains register idtoken.
func (r *Runner) syntaxHelp(t Terminal, toks []Token) error {
	n, i := r.walk(toks)
	if i < len(toks) && n.Run == nil {
		return errUnknownWord(toks[i].Text, n.Path())
	}
	var b strings.Builder
	writeSyntax(&b, n)
	io.WriteString(t, b.String())
	return nil
}

func writeSyntax(b *strings.Builder, n *Command) {
	if n.Run != nil {
		b.WriteString("Syntax:\n" + n.Syntax() + "\n")
		width := 12
		for _, a := range n.Args {
			width = max(width, len(a.Name)+2)
		}
		for _, a := range n.Args {
			mode := "mandatory"
			if a.Optional {
				mode = "optional"
			}
			fmt.Fprintf(b, "%-*s%-12s%s\n", width, a.Name, mode, a.Help)
		}
	}
	if subs := n.visible(); len(subs) > 0 {
		if n.Run != nil {
			b.WriteString("\n")
		}
		writeOptions(b, n.Path(), subs)
	}
}

func writeOptions(b *strings.Builder, path string, subs []*Command) {
	if path == "" {
		b.WriteString("Commands:\n")
	} else {
		b.WriteString("Syntax:\n" + path + " <option>\nOptions:\n")
	}
	width := 0
	for _, c := range subs {
		width = max(width, len(c.Label()))
	}
	for _, c := range subs {
		fmt.Fprintf(b, "  %-*s  %s\n", width, c.Label(), c.Help)
	}
}
