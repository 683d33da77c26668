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
	toks := make([]Token, len(words))
	for i, w := range words {
		toks[i] = Token{Text: w}
	}
	n, i := r.walk(toks)
	if i < len(toks) {
		return errUnknownWord(toks[i].Text, n.Path())
	}
	fmt.Fprintf(&b, "%s help:\n", n.Word)
	if n.Detail != "" {
		b.WriteString(n.Detail + "\n")
	} else {
		b.WriteString(n.Help + ".\n")
	}
	b.WriteString("\n")
	writeSyntax(&b, n)
	if n.Example != "" {
		b.WriteString("\nExample:\nadmin:" + n.Example + "\n")
	}
	io.WriteString(c.Term, b.String())
	return nil
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
	return partial, cands
}
