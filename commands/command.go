package commands

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Command is one word of the command tree. The tree in tree.go is the only
// list of commands: dispatch, `?`, help, completion, privilege checks and
// the golden file names of the reports all read it.
type Command struct {
	Word    string
	Help    string // one line, for listings and `?`
	Detail  string // paragraph for `help <command>`
	Example string // an example command line, without the prompt
	Args    []*Arg
	Sub     []*Command
	Run     Handler
	// Licensing commands run in the Smart License Manager service, which
	// exists only on the publisher: on a subscriber they print nothing.
	Licensing bool
	// OwnTimers: the handler runs the licensing timers itself (reports do,
	// in the same store transaction as the report), so the runner does not
	// run them first.
	OwnTimers bool
	Priv      int  // privilege level needed (0, 1 or 4, as on CUCM); inherited
	Hidden    bool // accepted but not offered by completion or listings
	// Since is the first CUCM major release that has the command (0: all
	// from 12.5 on); a node of an older version does not know it.
	Since int

	parent *Command
}

// Handler runs one resolved command line. Output and questions go through
// c.Term; arguments are read with c.Value, c.Given and c.Words.
type Handler func(r *Runner, ctx context.Context, c *Call) error

// Arg is a positional argument of a runnable command. Each is declared
// once, as a variable beside the tree, and handlers read it through that
// same variable: a misspelt name does not compile, and reading an argument
// the command does not declare panics (TestHandlersReadDeclaredArgs).
type Arg struct {
	Name     string
	Help     string
	Optional bool
	Literal  bool // the argument is its own name, e.g. [force]
	Quoted   bool // written as "<name>"; may contain spaces when quoted
	Rest     bool // takes every remaining word
}

// Call is one resolved command line being run.
type Call struct {
	Command *Command
	Term    Terminal
	// JSON: print the report's model as JSON (--json, for scripts).
	JSON bool

	values map[*Arg]string
	words  []string // of the Rest argument
}

// Value is the word given for a, or "" when an optional a was left out.
func (c *Call) Value(a *Arg) string {
	c.check(a)
	return c.values[a]
}

// Given reports whether a was given, e.g. an optional [force].
func (c *Call) Given(a *Arg) bool {
	c.check(a)
	_, ok := c.values[a]
	return ok
}

// Words is every word given for a Rest argument.
func (c *Call) Words(a *Arg) []string {
	c.check(a)
	return c.words
}

// check panics on an argument the command does not declare: a handler bug,
// which Execute turns into an internal error and the table test catches.
func (c *Call) check(a *Arg) {
	if !slices.Contains(c.Command.Args, a) {
		panic(fmt.Sprintf("%s reads the argument %q, which it does not declare", c.Command.Path(), a.Name))
	}
}

// Path is the command's words from the root, e.g. "license smart deregister".
func (n *Command) Path() string {
	var words []string
	for p := n; p != nil && p.parent != nil; p = p.parent {
		words = append(words, p.Word)
	}
	slices.Reverse(words)
	return strings.Join(words, " ")
}

// Syntax is the command line with its arguments, as `?` prints it.
func (n *Command) Syntax() string {
	var b strings.Builder
	b.WriteString(n.Path())
	for _, a := range n.Args {
		b.WriteByte(' ')
		b.WriteString(a.Usage())
	}
	return b.String()
}

// Usage is how the argument is written in a syntax line.
func (a *Arg) Usage() string {
	s := "<" + a.Name + ">"
	switch {
	case a.Literal:
		s = a.Name
	case a.Quoted:
		s = `"` + s + `"`
	}
	if a.Rest {
		s += "..."
	}
	if a.Optional {
		s = "[" + s + "]"
	}
	return s
}

// child finds the sub-command spelled word (case-insensitive, as CUCM).
func (n *Command) child(word string) *Command {
	for _, c := range n.Sub {
		if strings.EqualFold(c.Word, word) {
			return c
		}
	}
	return nil
}

// visible lists the sub-commands offered to the user.
func (n *Command) visible() []*Command {
	out := make([]*Command, 0, len(n.Sub))
	for _, c := range n.Sub {
		if !c.Hidden {
			out = append(out, c)
		}
	}
	return out
}

// Label is the word as listings show it: "*" marks words with sub-commands.
func (n *Command) Label() string {
	if len(n.visible()) > 0 {
		return n.Word + "*"
	}
	return n.Word
}

// link sets parents and inherits the licensing mark and privilege.
func link(n *Command) *Command {
	for _, c := range n.Sub {
		c.parent = n
		c.Licensing = c.Licensing || n.Licensing
		c.OwnTimers = c.OwnTimers || n.OwnTimers
		c.Priv = max(c.Priv, n.Priv)
		link(c)
	}
	return n
}

// changesState reports whether the command may change the node's
// licensing state: everything under license (reports are under show).
func (n *Command) changesState() bool {
	for p := n; p.parent != nil; p = p.parent {
		if p.parent.parent == nil {
			return p.Word == "license" && n.Run != nil
		}
	}
	return false
}

// Walk visits every command below n, depth first.
func (n *Command) Walk(fn func(*Command)) {
	for _, c := range n.Sub {
		fn(c)
		c.Walk(fn)
	}
}
