package commands

import "strings"

// Node is one word of the command tree. The tree in tree.go is the only
// list of commands: dispatch, `?`, help and completion all read it.
type Node struct {
	Word    string
	Help    string // one line, for listings and `?`
	Detail  string // paragraph for `help <command>`
	Example string // an example command line, without the prompt
	Args    []Arg
	Sub     []*Node
	Run     func(*Runner, *Call) error
	// Licensing commands run in the Smart License Manager service, which
	// exists only on the publisher: on a subscriber they print nothing.
	Licensing bool
	// OwnTimers: the handler runs the licensing timers itself (reports do,
	// in the same store transaction as the report), so the runner does not
	// run them first.
	OwnTimers bool
	Priv      int  // privilege level needed
	Hidden    bool // accepted but not offered by completion or listings

	parent *Node
}

// Arg is a positional argument of a runnable node.
type Arg struct {
	Name     string
	Help     string
	Optional bool
	Literal  bool // the argument is its own name, e.g. [force]
	Quoted   bool // written as "<name>"; may contain spaces when quoted
	Rest     bool // takes every remaining word
}

// Path is the command's words from the root, e.g. "license smart deregister".
func (n *Node) Path() string {
	var words []string
	for p := n; p != nil && p.parent != nil; p = p.parent {
		words = append(words, p.Word)
	}
	for i, j := 0, len(words)-1; i < j; i, j = i+1, j-1 {
		words[i], words[j] = words[j], words[i]
	}
	return strings.Join(words, " ")
}

// Syntax is the command line with its arguments, as `?` prints it.
func (n *Node) Syntax() string {
	var b strings.Builder
	b.WriteString(n.Path())
	for _, a := range n.Args {
		b.WriteByte(' ')
		b.WriteString(a.Usage())
	}
	return b.String()
}

// Usage is how the argument is written in a syntax line.
func (a Arg) Usage() string {
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
func (n *Node) child(word string) *Node {
	for _, c := range n.Sub {
		if strings.EqualFold(c.Word, word) {
			return c
		}
	}
	return nil
}

// visible lists the sub-commands offered to the user.
func (n *Node) visible() []*Node {
	out := make([]*Node, 0, len(n.Sub))
	for _, c := range n.Sub {
		if !c.Hidden {
			out = append(out, c)
		}
	}
	return out
}

// Label is the word as listings show it: "*" marks words with sub-commands.
func (n *Node) Label() string {
	if len(n.visible()) > 0 {
		return n.Word + "*"
	}
	return n.Word
}

// link sets parents and inherits the licensing mark and privilege.
func link(n *Node) *Node {
	for _, c := range n.Sub {
		c.parent = n
		c.Licensing = c.Licensing || n.Licensing
		c.OwnTimers = c.OwnTimers || n.OwnTimers
		c.Priv = max(c.Priv, n.Priv)
		link(c)
	}
	return n
}

// Walk visits every node below n, depth first.
func (n *Node) Walk(fn func(*Node)) {
	for _, c := range n.Sub {
		fn(c)
		c.Walk(fn)
	}
}
