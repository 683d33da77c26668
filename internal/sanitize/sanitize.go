// Package sanitize makes text from elsewhere (a command line, a licensing
// server's answer) safe to print to a terminal or keep in the trace: one
// function, used by the shell and by the node's licensing client alike.
package sanitize

import (
	"strconv"
	"strings"
)

// Text returns s with every character that could steer a terminal or hide
// text written as a Go escape (\x1b, \r, \u202e, ...): C0 and C1 controls,
// DEL, bidi controls, zero-width characters, line separators and invalid
// UTF-8. Text without them comes back unchanged (and unallocated).
func Text(s string) string {
	i := strings.IndexFunc(s, unsafe)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		if unsafe(r) {
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func unsafe(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0, r == '\uFFFD':
		return true
	case r >= 0x200b && r <= 0x200f, // zero-width, LRM, RLM
		r >= 0x2028 && r <= 0x202e, // line/paragraph separators, bidi embeddings
		r >= 0x2066 && r <= 0x2069, // bidi isolates
		r == 0xfeff:                // zero-width no-break space
		return true
	}
	return false
}
