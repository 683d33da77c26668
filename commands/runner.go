package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ucmsh/ucmsh/internal/clock"
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
	// Privilege is the account's level (0, 1 or 4, as on CUCM): a
	// command whose table level is higher is refused.
	Privilege() int
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
	// Strict is ucmsh serve --strict: as on CUCM, a line carries no
	// options (no --json); every word is the command's.
	Strict bool
	// Audit, when set, is told of every command run that may change the
	// node's licensing state (the license tree): its words without the
	// arguments (tokens, codes), and whether it succeeded.
	Audit func(path string, ok bool)
	// Clock is the node's time, which the platform commands show (date,
	// uptime, load) and wait on; the system clock when nil.
	Clock clock.Clock

	root *Command
}

// NewRunner returns a runner over the command tree.
func NewRunner(role Role, profile *publisher.Profile, svc *publisher.Service) *Runner {
	return &Runner{Role: role, Profile: profile, Service: svc, root: treeFor(profile)}
}

// Session returns a shell session that runs its commands with r: cfg
// gives the editor and the account; the banner, the limits and the hooks
// of the command layer are filled in here.
func (r *Runner) Session(cfg shell.Config) *shell.Session {
	cfg.Banner = Banner(r.Profile)
	cfg.MaxLine = MaxCommandBytes
	cfg.OpenQuote = OpenQuote
	cfg.EchoLine = EchoLine
	cfg.Run = func(ctx context.Context, s *shell.Session, line string) shell.Outcome { return r.Execute(ctx, s, line) }
	cfg.Complete = r.Complete
	cfg.IsCommand = r.IsCommand
	return shell.New(cfg)
}

var errQuit = errors.New("quit")

// Execute runs one command line and prints its output to t, or its error
// and "Executed command unsuccessfully" to t's error stream (standard
// error of a script) when it has one.
func (r *Runner) Execute(ctx context.Context, t Terminal, line string) (out Outcome) {
	var cmd *Command
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(errorsOf(t), msgInternal+"\n%s\n", p, msgFailed)
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
	io.WriteString(errorsOf(t), msg+msgFailed+"\n")
	return Failed
}

// errorsOf is where t wants a failure written: a shell session of a script
// has its own stream for them (shell.Session.Errors); otherwise t itself.
func errorsOf(t Terminal) io.Writer {
	if e, ok := t.(interface{ Errors() io.Writer }); ok {
		return e.Errors()
	}
	return t
}

// execute runs line; *cmd is set to the command it resolves to, so that
// even a panic of its handler is audited.
func (r *Runner) execute(ctx context.Context, t Terminal, line string, cmd **Command) error {
	toks, err := Tokenize(line)
	if err != nil {
		return err
	}
	json := false
	if !r.Strict {
		if toks, json, err = options(toks); err != nil {
			return err
		}
	}
	if len(toks) == 0 {
		return nil
	}
	// "?" asks for help, alone or glued to the last word ("idtoken?"
	// works like "idtoken ?", as captured: admin:file list activelog?).
	if last := toks[len(toks)-1]; !last.Quoted && strings.HasSuffix(last.Text, "?") {
		if last.Text == "?" {
			toks = toks[:len(toks)-1]
		} else {
			toks[len(toks)-1].Text = strings.TrimSuffix(last.Text, "?")
		}
		return r.syntaxHelp(t, toks)
	}
	call, err := r.resolve(toks)
	if err != nil {
		return err
	}
	c := call.Command
	*cmd = c
	if c.Priv > t.Privilege() {
		return errPrivilege(c, t)
	}
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
	call.JSON = r.JSON || json
	return c.Run(r, ctx, call)
}

// options takes the one option a command line may carry, the same in every
// session: --json as its last word, or before the command. (OpenSSH's ssh
// takes a "-" word right after the host as its own option, so "ssh host
// show license status --json" is the handy spelling.) A quoted "--json" is
// an argument like any other.
func options(toks []Token) ([]Token, bool, error) {
	json := false
	for len(toks) > 0 && !toks[0].Quoted && strings.HasPrefix(toks[0].Text, "-") {
		if toks[0].Text != "--json" {
			return nil, false, errUnknownOption(toks[0].Text)
		}
		toks, json = toks[1:], true
	}
	if n := len(toks); n > 0 && !toks[n-1].Quoted && toks[n-1].Text == "--json" {
		toks, json = toks[:n-1], true
	}
	return toks, json, nil
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
	if subs := n.visible(); n.Run == nil && len(subs) > 0 {
		// After a word with sub-commands "?" lists them as Tab does.
		b.WriteString(shell.Listing(listingWidth, candidates(subs)) + "\n")
	} else {
		writeSyntax(&b, n)
	}
	io.WriteString(t, b.String())
	return nil
}

// listingWidth is the terminal width "?" lays its listing out for: the
// command layer does not know the real one, and 80 columns is the VOS
// console's ([ucmsh]).
const listingWidth = 80

func candidates(subs []*Command) []Candidate {
	out := make([]Candidate, len(subs))
	for i, c := range subs {
		out[i] = Candidate{Word: c.Word, Label: c.Label()}
	}
	return out
}
