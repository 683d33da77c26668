package shell

import (
	"fmt"
	"strings"
)

// Tab completion, the same in both terminal editors.

// completeAt completes the word before pos: it returns the new line and
// cursor, or, when several words continue it and nothing can be added,
// the candidates to list. Both are nil when Tab does nothing, and then
// repeat says that the line is a complete command, which CUCM answers by
// showing the line again on a new row.
func completeAt(h hooks, line []rune, pos int) (_ []rune, _ int, _ []Candidate, repeat bool) {
	if h.complete == nil {
		return nil, 0, nil, false
	}
	partial, cands := h.complete(string(line[:pos]))
	if len(cands) == 0 {
		return nil, 0, nil, h.isCommand != nil && h.isCommand(string(line[:pos]))
	}
	insert := commonPrefix(cands)
	if len(cands) == 1 {
		insert += " "
	}
	if len(cands) > 1 && len(insert) <= len(partial) {
		return nil, 0, cands, false
	}
	start := max(0, pos-len([]rune(partial)))
	out := append(append(append([]rune{}, line[:start]...), []rune(insert)...), line[pos:]...)
	return out, start + len([]rune(insert)), nil, false
}

// listing lays out completion candidates in columns for a terminal of the
// given width, without a final line end.
func listing(width int, cands []Candidate) string {
	colw := 0
	for _, c := range cands {
		colw = max(colw, len(c.Label)+2)
	}
	perRow := max(1, width/colw)
	var b strings.Builder
	for i, c := range cands {
		if i > 0 && i%perRow == 0 {
			b.WriteString("\n")
		}
		if (i+1)%perRow == 0 || i == len(cands)-1 {
			b.WriteString(c.Label)
		} else {
			fmt.Fprintf(&b, "%-*s", colw, c.Label)
		}
	}
	return b.String()
}

// commonPrefix is the longest start all candidates share, ignoring case,
// spelled as the first candidate spells it.
func commonPrefix(cands []Candidate) string {
	p := cands[0].Word
	for _, c := range cands[1:] {
		n := 0
		for n < len(p) && n < len(c.Word) && strings.EqualFold(p[n:n+1], c.Word[n:n+1]) {
			n++
		}
		p = p[:n]
	}
	return p
}

// Listing lays out completion candidates in columns for a terminal of
// the given width, as Tab lists them (without a final line end); the
// command layer uses it for "?".
func Listing(width int, cands []Candidate) string { return listing(width, cands) }
