package commands

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/ucmsh/ucmsh/shell"
)

const generalHelp = `Welcome to the Platform Command Line Interface

Enter a command at the admin: prompt. Words are not case-sensitive.
  Tab             completes a word; on a word with several continuations it
                  lists them, marking with * the ones that take more words
  <command> ?     shows the syntax of a command
  help <command>  shows the detailed help of a command
  help all        lists every command with its syntax
  Up, Down        recall earlier commands (history is kept across sessions)
  Control-C       abandons the current line, question or command
  quit            leaves the command line interface

Enclose an authorization code in double quotes; it may be pasted across
several lines.

`

// help answers "help" and "help <command>".
func (r *Runner) help(_ context.Context, c *Call) error {
	var b strings.Builder
	words := c.Words(argHelpCommand)
	if len(words) == 0 {
		b.WriteString(generalHelp)
		writeOptions(&b, "", r.root.visible())
		io.WriteString(c.Term, b.String())
		return nil
	}
	if len(words) == 1 && strings.EqualFold(words[0], "all") {
		writeAll(&b, r.root)
		io.WriteString(c.Term, b.String())
		return nil
	}
	toks := make([]Token, len(words))
	for i, w := range words {
		toks[i] = Token{Text: w}
	}
	n, i := r.walk(toks)
	if i < len(toks) {
		return errUnknownWord(toks[i].Text, n.Path())
	}
	writeDetail(&b, n)
	io.WriteString(c.Term, b.String())
	return nil
}

// writeDetail is help <command> in the CLI guide's layout: "<word> help:",
// the description, "options are:" with the arguments (or, for a menu
// word, its sub-commands), then "Example:" with the example command.
// [ucmsh] the guide also prints the example's output; ours would depend
// on the node's state, so the example line stands alone.
func writeDetail(b *strings.Builder, n *Command) {
	fmt.Fprintf(b, "%s help:\n", n.Word)
	if n.Detail != "" {
		b.WriteString(n.Detail + "\n")
	} else {
		b.WriteString(n.Help + ".\n")
	}
	type option struct{ name, help string }
	var opts []option
	for _, a := range n.Args {
		opts = append(opts, option{a.Name, a.Help})
	}
	if n.Run == nil {
		for _, c := range n.visible() {
			opts = append(opts, option{c.Label(), c.Help})
		}
	}
	if len(opts) > 0 {
		width := 0
		for _, o := range opts {
			width = max(width, len(o.name))
		}
		b.WriteString("\noptions are:\n")
		for _, o := range opts {
			fmt.Fprintf(b, "%-*s  - %s\n", width, o.name, o.help)
		}
	}
	if n.Example != "" {
		b.WriteString("\nExample:\nadmin:" + n.Example + "\n")
	}
}

// writeAll lists every command of the tree that is offered (aliases are
// not), one syntax line each, in the table's order.
func writeAll(b *strings.Builder, root *Command) {
	b.WriteString("All commands (help <command> explains one):\n")
	var walk func(n *Command)
	walk = func(n *Command) {
		for _, c := range n.visible() {
			if c.Run != nil {
				b.WriteString(c.Syntax() + "\n")
			}
			walk(c)
		}
	}
	walk(root)
}

// Candidate is one word that can complete a partial command line: the
// shell's type, which it lists and inserts.
type Candidate = shell.Candidate

// Complete lists the words that can end line, whose last word may be
// partial ("" after a space). Completion never runs anything.
func (r *Runner) Complete(line string) (partial string, cands []Candidate) {
	if OpenQuote(line) || checkChars(line) != nil {
		return "", nil
	}
	fields := strings.Fields(line)
	if len(fields) > 0 && !strings.HasSuffix(line, " ") && !strings.HasSuffix(line, "\t") {
		partial = fields[len(fields)-1]
		fields = fields[:len(fields)-1]
	}
	n := r.root
	for _, w := range fields {
		if n = n.child(w); n == nil {
			return partial, nil
		}
	}
	lower := strings.ToLower(partial)
	for _, c := range n.visible() {
		if strings.HasPrefix(strings.ToLower(c.Word), lower) {
			cands = append(cands, Candidate{Word: c.Word, Label: c.Label()})
		}
	}
	if len(cands) == 1 && partial != "" && strings.EqualFold(cands[0].Word, partial) {
		return partial, completeWord(n.child(partial), partial)
	}
	return partial, cands
}

// IsCommand reports whether line is a complete command (one that would
// run, its arguments given), so that Tab can tell it from a line that
// nothing continues.
func (r *Runner) IsCommand(line string) bool {
	if OpenQuote(line) || checkChars(line) != nil {
		return false
	}
	toks, err := Tokenize(line)
	if err != nil {
		return false
	}
	if !r.Strict {
		if toks, _, err = options(toks); err != nil {
			return false
		}
	}
	if len(toks) == 0 {
		return false
	}
	_, err = r.resolve(toks)
	return err == nil
}

// completeWord is Tab on a word typed in full. A word with sub-commands
// lists them at once (each candidate is the word itself, so nothing is
// inserted) or, when it has one, completes it too; a complete command
// offers nothing, so the line stays as it is.
func completeWord(c *Command, typed string) []Candidate {
	subs := c.visible()
	switch {
	case len(subs) == 1:
		return []Candidate{{Word: c.Word + " " + subs[0].Word, Label: subs[0].Label()}}
	case len(subs) > 1:
		cands := make([]Candidate, len(subs))
		for i, s := range subs {
			cands[i] = Candidate{Word: typed, Label: s.Label()}
		}
		return cands
	}
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
